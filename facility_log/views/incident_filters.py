"""The incident list's filter form, written once per everything it shows and then reused.

Every request of the incident list renders its filter form: four lists (the user's sites,
the statuses, the severities, the categories) and three inputs. Django builds a widget
context per option of each list before the markup is written (forms/renderer.py), and that
cost as much Python as the page's 50 rows. The form shows nothing but what `_shown` names —
the language, the form's ids and prefix, the value each field shows (the request's, or none
when unbound), the sites offered (code and name) and the categories (id and name) — so its
markup, written by `templatetags.facility_log_tags.form_fields` as before, is kept under
that key and taken as written when the key comes again: a kept form is never stale (another
site name, a new category, another language or filter value is another key). A form with
errors (which shows them) or initial values is written each time. Bounded: emptied when full.
"""

from django.utils.translation import get_language

from facility_log.templatetags.facility_log_tags import form_fields

_WRITTEN: dict[tuple, str] = {}
_WRITTEN_LIMIT = 500


def _shown(form) -> tuple | None:
    """Everything the filter form's markup depends on besides the code (labels, widgets and
    the fixed choices, translated by the language); None when it is not to be kept."""
    if form.categories is None or form.initial or (form.is_bound and form.errors):
        return None
    if form.is_bound:
        # What each field shows: the request's value as its widget reads it (BoundField.data;
        # a valid filter shows the value as sent, not as cleaned).
        values = tuple(
            field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
            for name, field in form.fields.items()
        )
    else:
        if any(field.initial is not None for field in form.fields.values()):
            return None
        values = None
    return (
        type(form),
        get_language(),
        form.auto_id,
        form.prefix,
        tuple(form.fields),
        values,
        form.shown_sites,
        tuple((category.pk, category.name) for category in form.categories),
    )


def filter_fields(form) -> str:
    """`{% form_fields form %}` of a `forms.incidents.FilterForm` that was offered its
    categories (`FilterForm.offer`), kept by what it shows (module docstring)."""
    key = _shown(form)
    if key is None:
        return form_fields(form)
    html = _WRITTEN.get(key)
    if html is None:
        html = form_fields(form)
        if len(_WRITTEN) >= _WRITTEN_LIMIT:
            _WRITTEN.clear()
        _WRITTEN[key] = html
    return html
