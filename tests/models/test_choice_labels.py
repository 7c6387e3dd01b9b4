"""The app's `get_FOO_display()` (facility_log/choice_labels.py) answers exactly as Django's
own, in every language, for every choice, an unknown value and no value."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from facility_log import choice_labels
from facility_log.models import Incident

FIELDS = [
    (model, field)
    for model in apps.get_app_config("facility_log").get_models()
    for field in model._meta.fields
    if isinstance(field.choices, list | tuple)
]


def test_the_app_has_choice_fields_and_they_are_all_replaced():
    assert len(FIELDS) > 20
    for model, field in FIELDS:
        method = model.__dict__.get(f"get_{field.name}_display")
        if method is not None and hasattr(method, "func"):
            assert method.func is choice_labels._display, (model, field.name)


@pytest.mark.parametrize("language", ["en-gb", "de"])
def test_every_label_is_djangos_label(language):
    checked = 0
    with translation.override(language):
        for model, field in FIELDS:
            values = [value for value, _label in field.flatchoices] + ["no-such-value", None]
            for value in values:
                instance = model()
                setattr(instance, field.attname, value)
                ours = getattr(instance, f"get_{field.name}_display")()
                djangos = models.Model._get_FIELD_display(instance, field)
                assert ours == djangos, (model.__name__, field.name, value)
                assert type(ours) is type(djangos)
                checked += 1
    assert checked > 100


def test_a_label_follows_the_active_language():
    incident = Incident(status="submitted")
    with translation.override("en-gb"):
        english = incident.get_status_display()
    with translation.override("de"):
        german = incident.get_status_display()
    assert english == "Submitted"
    assert german != english
