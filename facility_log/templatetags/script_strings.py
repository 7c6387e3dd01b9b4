"""`{% script_strings "group" %}`: a page's script sentences, translated, as JSON the script
reads (views/page_strings.py)."""

from django import template
from django.utils.html import json_script

from facility_log.views.page_strings import script_strings as strings_of

register = template.Library()


@register.simple_tag
def script_strings(group: str) -> str:
    """`<script id="GROUP-strings" type="application/json">{…}</script>`."""
    return json_script(strings_of(group), f"{group}-strings")
