"""PRIVACY.md and the models agree: the system records the facility, not people's lives.

These tests fail when a model grows a field for social-media handles, location trails or
biometric templates, or when a model of people appears beyond the facility's own accounts and
the persons recorded inside one incident.
"""

import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent

# Words that name what we never store. Matched against field names and help texts.
FORBIDDEN = re.compile(
    r"social|twitter|facebook|instagram|tiktok|linkedin|telegram|handle|dark_?web|"
    r"face_?(print|encoding|embedding|template|id)|biometric|fingerprint|iris|gait|voiceprint|"
    r"latitude|longitude|\blat\b|\blng\b|\blon\b|gps|geo_?(location|track|trail)|location_?(trail|history|track)|"
    r"ip_?address|browsing|device_?id|imei|mac_?address",
    re.IGNORECASE,
)

# The only models allowed to describe a person. New entries need a line in PRIVACY.md.
PEOPLE_MODELS = {"User", "Membership", "ApiToken"}
PERSON_WORDS = re.compile(
    r"person|people|profile|subject|individual|suspect|watchlist|dossier", re.IGNORECASE
)
# Inside one incident only (the incidents issue): persons involved, never indexed across.
ALLOWED_INCIDENT_PERSON_MODELS = {"InvolvedPerson"}


def _models():
    return [m for m in apps.get_models() if not m.__name__.startswith("Historical")]


def test_no_field_stores_social_media_location_trails_or_biometrics():
    offenders = []
    for model in _models():
        for field in model._meta.get_fields():
            described = (getattr(field, "help_text", ""), getattr(field, "verbose_name", ""))
            text = " ".join([field.name, *map(str, described)])
            if FORBIDDEN.search(text):
                offenders.append(f"{model.__name__}.{field.name}")
    assert not offenders, f"PRIVACY.md forbids these fields: {offenders}"


def test_no_model_of_people_beyond_accounts_and_incident_persons():
    offenders = [
        m.__name__
        for m in _models()
        if PERSON_WORDS.search(m.__name__) and m.__name__ not in ALLOWED_INCIDENT_PERSON_MODELS
    ]
    assert not offenders, f"models of people outside one incident: {offenders}"


def test_incident_persons_if_present_belong_to_exactly_one_incident():
    for name in ALLOWED_INCIDENT_PERSON_MODELS:
        try:
            model = apps.get_model("facility_log", name)
        except LookupError:
            continue
        incident = model._meta.get_field("incident")
        assert incident.many_to_one and not incident.null


def test_privacy_statement_states_the_line():
    text = (ROOT / "PRIVACY.md").read_text()
    for phrase in (
        "social-media",
        "facial recognition",
        "location",
        "profiles",
        "What is stored",
        "Who sees it",
        "How long",
    ):
        assert phrase.lower() in text.lower(), phrase
