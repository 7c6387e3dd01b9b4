"""`{% script_strings "group" %}`: a page's script sentences, translated, as JSON the script
reads (views/page_strings.py)."""

from django import template
from django.utils.html import json_script
from django.utils.translation import get_language

from facility_log.views.page_strings import script_strings as strings_of

register = template.Library()

# Every page writes the "page" group: its JSON is the same for every request in a language
# (the catalogues do not change while the server runs), so it is written once per language.
_written: dict[tuple[str, str | None], str] = {}


@register.simple_tag
def script_strings(group: str) -> str:
    """`<script id="GROUP-strings" type="application/json">{…}</script>`."""
    key = (group, get_language())
    html = _written.get(key)
    if html is None:
        html = _written[key] = json_script(strings_of(group), f"{group}-strings")
    return html
