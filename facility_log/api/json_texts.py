"""A JSON column of an API list decoded once per distinct text, and sent as the text it encodes
to once, instead of decoded and encoded again for every row of every page.

The runs list sends each run's `plan`, its stops frozen at the start: about 680 bytes of JSON
a run, the same text for every run of a route (unless the route shuffles its stops). Decoding
it (`JSONField.from_db_value`) and encoding it again in the response took a third of the
list's Python time. Here the column's text is read as it is (`raw_json` columns of
api/offset_rows.py), `decoded(text)` decodes it as `from_db_value` does, once per distinct
text (the most recent `CACHED` kept), into a `JsonList` or `JsonDict`: a plain list or dict
to everything that reads it (the serializer, `response.data`, the browsable API), which also
keeps the bytes `SplicedJSONRenderer` writes for it. That renderer writes the page as DRF's
JSONRenderer does and puts those bytes in the values' places: the same bytes as encoding the
value there (same encoder, separators and escapes; without indentation, else it leaves it to
DRF's renderer entirely).

The decoded values are shared by every response that reads the same text: nothing may change
them (the lists only read and send them).
"""

import functools
import json
import secrets

from rest_framework.renderers import JSONRenderer

# Distinct texts kept decoded (per process): a few hundred routes' plans, about 3 KB each.
CACHED = 512


class _Encoded:
    """The bytes a value encodes to, by the renderer's settings (computed on first use)."""

    __slots__ = ()

    def encoded(self, renderer: JSONRenderer) -> bytes:
        """This value as `renderer` writes it (compact: no indentation)."""
        key = (renderer.encoder_class, renderer.ensure_ascii, renderer.strict, renderer.compact)
        cached = self._texts.get(key)
        if cached is None:
            separators = (",", ":") if renderer.compact else (", ", ": ")
            text = json.dumps(
                self,
                cls=renderer.encoder_class,
                ensure_ascii=renderer.ensure_ascii,
                allow_nan=not renderer.strict,
                separators=separators,
            )
            # As JSONRenderer.render escapes them in the whole document.
            text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
            cached = self._texts[key] = text.encode()
        return cached


class JsonList(_Encoded, list):
    """A decoded JSON array that keeps what it encodes to (see the module docstring)."""

    __slots__ = ("_texts",)

    def __init__(self, items):
        super().__init__(items)
        self._texts = {}


class JsonDict(_Encoded, dict):
    """A decoded JSON object that keeps what it encodes to (see the module docstring)."""

    __slots__ = ("_texts",)

    def __init__(self, items):
        super().__init__(items)
        self._texts = {}


@functools.lru_cache(maxsize=CACHED)
def _decoded_text(text: str):
    value = json.loads(text)
    if type(value) is list:
        return JsonList(value)
    if type(value) is dict:
        return JsonDict(value)
    return value


def decoded(text):
    """`text` (a JSON column read as text) decoded as `JSONField.from_db_value` decodes it (no
    decoder class): None stays None, text that is not JSON is returned as it is."""
    if text is None:
        return None
    try:
        return _decoded_text(text)
    except json.JSONDecodeError:
        return text


# In a value's place while the page is encoded: a string no stored text holds (NUL, which
# PostgreSQL's text cannot store, and a random part), found afterwards by its encoding.
_MARK = "\x00" + secrets.token_hex(12)


class SplicedJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, writing the `JsonList`/`JsonDict` values of a list's rows
    (`data["results"][n][field]`) from the bytes they keep (module docstring)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        results = data.get("results") if type(data) is dict else None
        if type(results) is not list or self.get_indent(
            accepted_media_type, renderer_context or {}
        ):
            return super().render(data, accepted_media_type, renderer_context)
        texts, rows = [], []
        for row in results:
            if type(row) is dict and any(type(v) in (JsonList, JsonDict) for v in row.values()):
                row = row.copy()
                for name, value in list(row.items()):
                    if type(value) in (JsonList, JsonDict):
                        texts.append(value.encoded(self))
                        row[name] = _MARK
            rows.append(row)
        if not texts:
            return super().render(data, accepted_media_type, renderer_context)
        out = super().render({**data, "results": rows}, accepted_media_type, renderer_context)
        parts = out.split(self._mark())
        if len(parts) != len(texts) + 1:  # cannot happen (a mark in the data): encode it all
            return super().render(data, accepted_media_type, renderer_context)
        spliced = [parts[0]]
        for text, part in zip(texts, parts[1:], strict=True):
            spliced += (text, part)
        return b"".join(spliced)

    def _mark(self) -> bytes:
        return json.dumps(_MARK, ensure_ascii=self.ensure_ascii).encode()
