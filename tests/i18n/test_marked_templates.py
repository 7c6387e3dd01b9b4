"""Every user-visible word in the templates goes through translation: a page cannot grow an
English-only string unnoticed (docs/translations.md)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

TEMPLATES = Path(__file__).resolve().parents[2] / "facility_log" / "templates"


# Text that is no word of any language: the product's name, separators, technical names.
# ABCD-EFGH-JKLM is the shape of a checkpoint code (the tablet's placeholder), not a word.
NOT_WORDS = {"facility_log", "SHA-256", "UTC", "QR", "CSV", "PDF", "JSON", "API", "ABCD-EFGH-JKLM"}

LETTER = re.compile(r"[^\W\d_]")
ENTITY = re.compile(r"&#?\w+;")
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}
OPENS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}


def _is_word(text: str) -> bool:
    text = ENTITY.sub("", text).strip()
    for allowed in NOT_WORDS:
        text = text.replace(allowed, "")
    return bool(LETTER.search(text))


def _outside_translation(source: str) -> str:
    """The template with its tags, comments and translated blocks removed, variables
    replaced by a mark that is no word: what is left is text nobody translates."""
    kept, closing = [], None
    for token in Lexer(source).tokenize():
        name = (token.contents.split() or [""])[0]
        if closing:
            closing = None if name == closing else closing
        elif token.token_type == TokenType.BLOCK and name in OPENS:
            closing = OPENS[name]
        elif token.token_type == TokenType.BLOCK and name == "comment":
            closing = "endcomment"
        elif token.token_type == TokenType.TEXT:
            kept.append(token.contents)
        elif token.token_type == TokenType.VAR:
            kept.append("\x00")
        elif token.token_type == TokenType.BLOCK:
            kept.append(" ")
    return "".join(kept)


class _Untranslated(HTMLParser):
    """Collects text and visible attribute values with words, outside <script>/<style>."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.found, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and _is_word(value):
                self.found.append(f'{name}="{value}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip and _is_word(data):
            self.found.append(data.strip())


def untranslated_text(source: str) -> list[str]:
    parser = _Untranslated()
    parser.feed(_outside_translation(source))
    parser.close()
    return parser.found


def _templates() -> list[str]:
    return sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("name", _templates())
def test_every_visible_string_is_marked_for_translation(name):
    source = (TEMPLATES / name).read_text()
    assert untranslated_text(source) == [], f"{name}: wrap these in {{% translate %}}"


def test_the_check_finds_an_unmarked_string():
    """The check itself: text, a visible attribute, but not translated text, variables,
    comments or scripts."""
    assert untranslated_text("<p>Hello</p>") == ["Hello"]
    assert untranslated_text('<img alt="Map">') == ['alt="Map"']
    assert untranslated_text('{% load i18n %}<p>{% translate "Hello" %} {{ name }} · ·</p>') == []
    assert untranslated_text("{% blocktranslate %}Hi {{ x }}{% endblocktranslate %}") == []
    assert (
        untranslated_text("{# note #}{% comment %}Old{% endcomment %}<script>go()</script>") == []
    )
