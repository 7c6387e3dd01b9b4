"""The API's JSON parser: DRF's, with limits on what a body may be.

A body nested 1,000 deep made Python's JSON decoder raise RecursionError (a 500), and a lone
surrogate such as "\\ud800" decoded fine but could not be encoded again when an error message
quoted it back (another 500). No request this API takes nests deeper than a few levels, and
text with a lone surrogate is not Unicode text at all: both are refused with a 400 that says
where, before any serializer sees the body. The vendor webhooks, which read their raw body
themselves (the signature covers its bytes), use `load_json` for the same limits.
"""

import json
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest body the API takes is a sync record's fields (about 4 levels); 32 leaves room.
MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """A JSON body outside the API's limits; the message says why and where."""


def check_json(value) -> None:
    """Refuse a decoded body nested deeper than MAX_DEPTH or holding a lone surrogate in any
    string (key or value), naming its place (`records[2].note`). Iterative, so a deep body
    cannot exhaust the stack here either."""
    stack = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise JsonRefused(
                    f"{where or 'The body'}: contains a lone surrogate (such as \\ud800), "
                    "which is not valid text."
                )
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise JsonRefused(f"The body is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(item, dict):
            for key, child in item.items():
                place = f"{where}.{key}" if where else str(key)
                if _SURROGATE.search(key):
                    raise JsonRefused(
                        f"{where or 'The body'}: a key contains a lone surrogate, "
                        "which is not valid text."
                    )
                stack.append((child, place, depth + 1))
        else:
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))


def load_json(raw: bytes | str):
    """`json.loads` within the API's limits: JsonRefused (a ValueError) for a body that is not
    JSON, nests too deep or holds a lone surrogate."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise JsonRefused(f"The body is nested deeper than {MAX_DEPTH} levels.") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise JsonRefused("The body is not JSON.") from None
    check_json(value)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (NaN and Infinity refused), within the limits above: a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            value = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"The body is nested deeper than {MAX_DEPTH} levels.") from None
        try:
            check_json(value)
        except JsonRefused as refused:
            raise ParseError(str(refused)) from None
        return value
