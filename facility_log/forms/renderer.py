"""A form renderer that writes the common widgets in Python instead of through templates.

Django renders every widget, and every `<option>` of a list, through its own small template:
on a filter form with a few lists that is a quarter of a list page's time, and the incident
page renders nine forms (docs/performance.md). The markup written here is exactly what Django's
templates under `django/forms/widgets/` write for `<input>`, `<select>`/`<option>` and
`<textarea>`, values escaped the same way (`conditional_escape`, which keeps what is already
marked safe); every other widget (file inputs with "clear", radio lists, multi-widgets) is left
to the templates. `tests/forms/test_renderer.py` compares both renderers widget by widget.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from facility_log.lazy_text import lazy_message, text

_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "search",
        "tel",
        "color",
        "checkbox",
        "file",
    )
)
_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"
_TEXTAREA = "django/forms/widgets/textarea.html"


def _attrs(attrs: dict) -> str:
    """`attrs.html`: ` name="value"` for each attribute, the bare name for True, nothing for
    False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{conditional_escape(value)}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{shown}{_attrs(widget["attrs"])}>'


def _option_html(option: dict) -> str:
    return (
        f'<option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(text(option['label']))}</option>"
    )


# The options of fixed choices (a value written in the code, its label a lazy translation:
# a model's TextChoices, "Any status"), written once per language, chosen or not. Options
# read from the database (a site's name, a category) are written every time.
_kept_options: dict[tuple, str] = {}
_CHOSEN = {"selected": True}


def _option(option: dict) -> str:
    message, value, attrs = lazy_message(option["label"]), option["value"], option["attrs"]
    if message is None or type(value) is not str or (attrs and attrs != _CHOSEN):
        return _option_html(option)
    key = (get_language(), value, message, bool(attrs))
    html = _kept_options.get(key)
    if html is None:
        html = _kept_options[key] = _option_html(option)
    return html


def _select(widget: dict) -> str | None:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            if option["template_name"] != _OPTION:
                return None  # a widget with its own option template: leave it to templates
            # select_option.html ends with a newline, kept inside the <select>.
            parts.append(f"\n  {_option(option)}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    value = widget["value"]
    shown = conditional_escape(value) if value else ""
    name = conditional_escape(widget["name"])
    return f'<textarea name="{name}"{_attrs(widget["attrs"])}>\n{shown}</textarea>'


class FastWidgetRenderer(DjangoTemplates):
    """Django's default renderer, with inputs, lists and text areas written directly."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        html = None
        if widget is not None:
            if template_name in _INPUT_TEMPLATES:
                html = _input(widget)
            elif template_name == _SELECT:
                html = _select(widget)
            elif template_name == _TEXTAREA:
                html = _textarea(widget)
        if html is None:
            return super().render(template_name, context, request)
        return mark_safe(html)  # noqa: S308 - every value above went through conditional_escape
