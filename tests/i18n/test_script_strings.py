"""The desk pages' scripts show only sentences the page hands them (`{% script_strings %}`,
views/page_strings.py): with German chosen they are the catalogue's German, and the scripts
themselves hold no English sentences (docs/translations.md)."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from facility_log.services import accounts
from facility_log.views.page_strings import SCRIPT_STRINGS, script_strings
from tests.access.helpers import site_a_alarm
from tests.i18n.catalogue import po_entries
from tests.incident_factories import seed_site_a_incident
from tests.two_factor_helpers import verified_login

JS = Path(__file__).resolve().parents[2] / "facility_log" / "static" / "facility_log" / "js"
# The scripts the desk pages load; none may hold an English sentence of its own.
DESK_SCRIPTS = [
    "alarm_console.js",
    "access_import.js",
    "access_import_job.js",
    "police_package.js",
    "incident_form.js",
    "theme.js",
    "rounds_live.js",
    "confirm_forms.js",
]


def handed(html: str, group: str) -> dict[str, str]:
    """The JSON the page hands its script for `group`."""
    found = re.search(
        rf'<script id="{group}-strings" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, f"{group}-strings missing"
    return json.loads(found[1])


def english(group: str) -> dict[str, str]:
    """The group's strings in the base language: their msgids."""
    with translation.override("en-gb"):
        return script_strings(group)


def german_of(group: str) -> dict[str, str]:
    """What the catalogue says in German for each of the group's strings; the sign-out
    refusal's two keys are the plural entry's two forms."""
    entries = po_entries()
    german = {}
    for key, msgid in english(group).items():
        if key == "sign_out_refused_other":
            continue
        forms = entries[msgid]
        assert all(forms), f"{msgid!r} has no German"
        german[key] = forms[0]
        if key == "sign_out_refused_one":
            german["sign_out_refused_other"] = forms[1]
    return german


@pytest.fixture
def pages(personas):
    """Each group and a page that hands it, for supervisor_a (who may use them all)."""
    incident = seed_site_a_incident(personas)
    return {
        "page": reverse("home"),
        "alarm-console": reverse("access-alarm-console"),
        "access-import": reverse("access-import"),
        "police-package": reverse("incident-police-package", args=[incident.pk]),
    }


@pytest.mark.django_db
def test_with_german_chosen_every_script_sentence_is_the_catalogues_german(personas, pages):
    accounts.set_language(personas.supervisor_a, "de")
    client = verified_login(Client(HTTP_ACCEPT_LANGUAGE="en"), personas.supervisor_a)
    for group, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        strings = handed(response.content.decode(), group)
        assert strings == german_of(group), group
        assert set(strings) >= set(SCRIPT_STRINGS[group]), group
        # Really German: no sentence is left as its English (one-word ones like "Senden" too).
        same = {key for key, text in strings.items() if text == english(group)[key]}
        assert not same, f"{group}: {same}"


@pytest.mark.django_db
def test_in_english_the_scripts_get_the_english(personas, pages):
    client = verified_login(Client(HTTP_ACCEPT_LANGUAGE="en"), personas.supervisor_a)
    for group, url in pages.items():
        strings = handed(client.get(url).content.decode(), group)
        assert strings == english(group), group
    assert strings_of_sign_in_page()["switch_to_light"] == "Switch to light theme"


def strings_of_sign_in_page() -> dict[str, str]:
    """The theme toggle is on the sign-in page too, before anyone is signed in."""
    return handed(Client().get(reverse("login")).content.decode(), "page")


@pytest.mark.django_db
def test_the_sign_in_page_hands_the_theme_words_in_german_to_a_german_browser():
    page = Client(HTTP_ACCEPT_LANGUAGE="de-DE").get(reverse("login")).content.decode()
    assert handed(page, "page")["switch_to_light"] == "Zum hellen Farbschema wechseln"


# ---- the scripts hold no English sentences of their own ------------------------------------

_COMMENTS = re.compile(r"/\*.*?\*/|(?<![:\\\"'])//[^\n]*", re.S)
_LITERALS = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`(?:[^`\\]|\\.)*`')
# CSS class lists are words but not sentences: `class: "button secondary"`.
_CLASS_VALUE = re.compile(
    r"\b(?:class|className)\s*[:=]\s*(?:[^,}\n;\"'`]|\"[^\"]*\"|'[^']*'|`[^`]*`)*"
)
_SEPARATOR = r"[\s#,;:!?()–—]*\s[\s#,;:!?()–—]*"
_TWO_WORDS = re.compile(rf"[A-Za-z]{{2,}}{_SEPARATOR}[A-Za-z]{{2,}}")
# Words that are code, not text anyone sees.
NOT_SENTENCES = {'"use strict"', '"(prefers-color-scheme: light)"'}


def english_literals(source: str) -> list[str]:
    """String literals with two or more words in a row (placeholders `${…}` taken out)."""
    source = _CLASS_VALUE.sub("", _COMMENTS.sub("", source))
    found = []
    for literal in _LITERALS.findall(source):
        text = re.sub(r"\$\{[^}]*\}", " ", literal[1:-1])
        if _TWO_WORDS.search(text) and literal not in NOT_SENTENCES:
            found.append(literal)
    return found


@pytest.mark.parametrize("name", DESK_SCRIPTS)
def test_desk_scripts_hold_no_english_sentence(name):
    assert english_literals((JS / name).read_text()) == []


def test_the_check_finds_a_hard_coded_sentence():
    assert english_literals('el("li", {}, "No open alarms.");') == ['"No open alarms."']
    assert english_literals("x = `Alarm #${id} acknowledged: ${note}`;") != []
    assert english_literals('el("span", { class: "badge priority" }, say("note"));') == []
    assert english_literals('el("li", { class: done ? "step done" : "step", id: 1 });') == []
    assert english_literals('el("li", { class: `a b ${c}` }, "Tick the alarm");') != []


def test_the_outbox_sign_out_refusal_comes_from_the_page():
    source = (JS / "tablet" / "outbox.js").read_text()
    assert "cannot sign out" not in source
    assert "sign_out_refused_one" in source and "sign_out_refused_other" in source


@pytest.mark.django_db
def test_the_alarm_feed_names_the_state_in_german(personas):
    site_a_alarm(personas)
    accounts.set_language(personas.supervisor_a, "de")
    client = verified_login(Client(HTTP_ACCEPT_LANGUAGE="en"), personas.supervisor_a)
    alarms = client.get(reverse("access-alarm-feed")).json()["alarms"]
    assert alarms and alarms[0]["state"] == "new"
    assert alarms[0]["state_label"] == po_entries()["New"][0] != "New"
