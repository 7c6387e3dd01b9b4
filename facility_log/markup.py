"""The small, safe markup of post orders: paragraphs (a blank line between), bullet lists
(lines starting with "- " or "* ") and **bold**. Everything the writer typed is escaped
first; only the tags made here reach the page, so no HTML from a user ever does."""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
BOLD = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")


def _inline(line: str) -> str:
    return BOLD.sub(r"<strong>\1</strong>", escape(line.strip()))


def _paragraph(lines: list[str]) -> str:
    return "<p>" + "<br>".join(_inline(line) for line in lines) + "</p>"


def _bullets(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_inline(line)}</li>" for line in lines) + "</ul>"


def render_markup(text: str) -> SafeString:
    """`text` as HTML: escaped, then paragraphs, bullet lists and bold made from the markup."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def close() -> None:
        if paragraph:
            blocks.append(_paragraph(paragraph))
            paragraph.clear()
        if items:
            blocks.append(_bullets(items))
            items.clear()

    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if not line.strip():
            close()
        elif bullet := BULLET.match(line):
            if paragraph:
                close()
            items.append(bullet.group(1))
        else:
            if items:
                close()
            paragraph.append(line)
    close()
    return mark_safe("".join(blocks))  # noqa: S308 -- every piece was escaped in _inline
