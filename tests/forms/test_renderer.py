"""The fast widget renderer writes exactly what Django's widget templates write."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from facility_log.forms.renderer import FastWidgetRenderer

TRICKY = ["plain", 'a "quoted" <b>&amp; value', mark_safe("<i>safe</i>"), gettext_lazy("Site"), 7]


def _both(widget: forms.Widget, name: str, value, attrs=None) -> tuple[str, str]:
    fast = widget.render(name, value, attrs=attrs, renderer=FastWidgetRenderer())
    slow = widget.render(name, value, attrs=attrs, renderer=DjangoTemplates())
    return fast, slow


WIDGETS = [
    forms.TextInput(),
    forms.TextInput(attrs={"placeholder": 'say "hi" <now>', "required": True, "disabled": False}),
    forms.NumberInput(attrs={"min": 0, "step": "any"}),
    forms.EmailInput(),
    forms.URLInput(),
    forms.PasswordInput(render_value=True),
    forms.HiddenInput(),
    forms.DateInput(attrs={"type": "date"}),
    forms.DateTimeInput(attrs={"type": "datetime-local"}),
    forms.TimeInput(),
    forms.CheckboxInput(),
    forms.FileInput(attrs={"accept": "image/*"}),
    forms.Textarea(attrs={"rows": 3, "aria-describedby": "x_help"}),
]


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", [None, "", *TRICKY], ids=repr)
def test_inputs_and_text_areas_are_written_as_the_templates_write_them(widget, value):
    fast, slow = _both(widget, 'field"<name>', value, attrs={"id": "id_x", "data-x": value or "v"})
    assert fast == slow


def test_checkbox_checked_and_unchecked_match():
    for value in (True, False, "on", ""):
        fast, slow = _both(forms.CheckboxInput(), "flag", value)
        assert fast == slow


CHOICES = [
    ("", "Any"),
    ("a", 'Alpha "A" <&>'),
    (1, gettext_lazy("Site")),
    ("Group <one>", [("g1", "first"), ("g2", mark_safe("<b>second</b>"))]),
]


@pytest.mark.parametrize("value", [None, "", "a", "1", "g2", ["a", "g1"]], ids=repr)
@pytest.mark.parametrize("widget_class", [forms.Select, forms.SelectMultiple])
def test_lists_with_groups_and_selection_are_written_as_the_templates_write_them(
    widget_class, value
):
    widget = widget_class(choices=CHOICES, attrs={"class": "wide", "required": True})
    fast, slow = _both(widget, "pick", value, attrs={"id": "id_pick"})
    assert fast == slow
    assert "<option" in fast


def test_a_whole_form_renders_the_same_and_other_widgets_still_use_templates():
    class Everything(forms.Form):
        name = forms.CharField(label="Name <x>", help_text="Help & more")
        kind = forms.ChoiceField(choices=CHOICES)
        note = forms.CharField(widget=forms.Textarea)
        when = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
        how = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
        upload = forms.FileField(required=False)

    data = {"name": '"<quoted>"', "kind": "g1", "note": "line\n<two>", "when": "2026-13-01"}
    fast = Everything(data, renderer=FastWidgetRenderer()).as_div()
    slow = Everything(data, renderer=DjangoTemplates()).as_div()
    assert fast == slow
    assert 'type="radio"' in fast  # the radio list came from Django's templates


def test_the_project_renders_forms_with_the_fast_renderer(settings):
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "facility_log.forms.renderer.FastWidgetRenderer"
    get_default_renderer.cache_clear()
    assert isinstance(get_default_renderer(), FastWidgetRenderer)


@pytest.mark.parametrize("language", ["en-gb", "de"])
@pytest.mark.parametrize("chosen", [None, "", "draft", ["draft", "approved"], 'x"<y>'])
@pytest.mark.parametrize("widget_class", [forms.Select, forms.SelectMultiple])
def test_kept_options_of_fixed_choices_are_the_templates_options(language, chosen, widget_class):
    """Options with a lazily translated label are kept per language, chosen or not: written
    again (second round, from what the first kept) in the other language, they still match
    the templates', and the choice is each render's own."""
    from django.utils import translation

    from facility_log.models.incidents import Status

    choices = [("", gettext_lazy("Any status")), *Status.choices, ("site", "ALPHA – <Plant>")]
    for _round in range(2):
        for lang in (language, "de" if language == "en-gb" else "en-gb"):
            with translation.override(lang):
                fast, slow = _both(widget_class(choices=choices), "status", chosen)
                assert fast == slow
    with translation.override(language):
        assert 'value="draft" selected' not in _both(forms.Select(choices=choices), "s", "")[0]
