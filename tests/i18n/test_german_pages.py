"""A guard who chose German sees every page they use in German: no text of the catalogue is
left in English, and none of the everyday English words shows (docs/translations.md)."""

import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from facility_log.services import accounts, lost_found, visitors
from facility_log.views.tablet_strings import TABLET_STRINGS
from tests.i18n.catalogue import po_entries
from tests.incident_factories import draft
from tests.post_orders_helpers import write
from tests.rounds_helpers import night_route
from tests.shifts_helpers import ago, start, worked
from tests.two_factor_helpers import authenticator, verified_login

pytestmark = pytest.mark.django_db

# Words a guard meets on every page; in German none of them may be left. (Test data below
# is named in German so that only the pages' own text can trip this.)
ENGLISH_WORDS = re.compile(
    r"\b(Incidents?|Shifts?|Submit|Rounds?|Checkpoints?|Save|Sign (in|out)|Report|"
    r"Notifications?|History|Cancel|Home|Draft|Scan|Finish|Severity|Zone|Add|Edit|"
    r"Vehicle|Property|Photo|Upload|the|and|of|to|is|are|with|your|you|by|at|on|no|not)\b"
)


class _VisibleText(HTMLParser):
    """The text a person sees or hears: text outside <script>/<style>, and the labels of
    controls (title, alt, placeholder, aria-label)."""

    def __init__(self):
        super().__init__()
        self.texts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")
        self.texts += [v for k, v in attrs if k in ("title", "alt", "placeholder", "aria-label")]

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return [text for text in parser.texts if text]


def still_english(html: str) -> list[str]:
    """Texts of the page that are an English catalogue text whose German differs, or that
    hold one of the everyday English words."""
    english = {msgid for msgid, forms in po_entries().items() if not forms[0] or forms[0] != msgid}
    return [text for text in visible_texts(html) if text in english or ENGLISH_WORDS.search(text)]


@pytest.fixture
def german_guard(personas):
    """guard_a, who chose German, signed in with a browser that asks for English."""
    accounts.set_language(personas.guard_a, "de")
    return verified_login(Client(HTTP_ACCEPT_LANGUAGE="en"), personas.guard_a)


@pytest.fixture
def guard_pages(personas):
    """Every page a guard uses, with the records they open (named in German)."""
    p = personas
    incident = draft(p, narrative="Tor B um 02:10 offen vorgefunden.")
    route, _ = night_route(p, names=("Tor", "Dach"), minutes=(0, 10), route_name="Nachtstreife")
    from facility_log.services import rounds

    run = rounds.start_run(route, p.guard_a, started_at=timezone.now() - timedelta(minutes=5))
    ended = worked(p, at=ago(hours=20), hours=8, notes="Osttür klemmt.")
    start(p, at=ago(hours=2))
    day = timezone.localdate().isoformat()
    order = write(p, title="Tor", body="Tor um **22:00** schließen.\n\n- Lieferungen über Rampe 2")
    found = lost_found.record_found_item(
        p.site_a,
        p.guard_a,
        lost_found.FoundItemInput(
            description="Schwarzer Regenschirm",
            found_at=timezone.now() - timedelta(hours=1),
            found_by="Reinigung",
            storage_location="Pforte, Fach 3",
        ),
        reason="gefunden",
    )
    visitors.sign_in_visitor(p.site_a, p.guard_a, name="Erika Muster", host="Empfang")
    return [
        reverse("home"),
        reverse("incident-new"),
        reverse("incident-list"),
        reverse("incident-page", args=[incident.pk]),
        reverse("incident-edit", args=[incident.pk]),
        reverse("incident-transition", args=[incident.pk, "submit"]),
        reverse("notification-list"),
        reverse("notification-settings"),
        reverse("rounds-site", args=[p.site_a.code]),
        reverse("round-run", args=[run.pk]),
        reverse("site-shifts", args=[p.site_a.code]),
        reverse("shift-report", args=[ended.pk]),
        reverse("site-activity", args=[p.site_a.code, day]),
        reverse("tablet"),
        reverse("visitor-sheet", args=[p.site_a.code, visitors.local_today(p.site_a).isoformat()]),
        reverse("visitor-evacuation", args=[p.site_a.code]),
        reverse("site-post-orders", args=[p.site_a.code]),
        reverse("post-order", args=[order.pk]),
        reverse("found-list", args=[p.site_a.code]),
        reverse("found-add", args=[p.site_a.code]),
        reverse("found-item", args=[p.site_a.code, found.pk]),
        reverse("procedure-list", args=[p.site_a.code]),
    ]


def test_every_page_a_guard_uses_is_all_german(german_guard, guard_pages):
    left = {}
    for url in guard_pages:
        response = german_guard.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == "de", url
        assert '<html lang="de">' in response.content.decode()
        left[url] = still_english(response.content.decode())
    left = {url: texts for url, texts in left.items() if texts}
    assert not left, "\n".join(f"{url}: {texts}" for url, texts in left.items())


def test_sign_in_and_second_step_are_german_for_a_german_browser(personas):
    browser = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    page = browser.get(reverse("login"))
    assert page.status_code == 200
    assert "Anmelden" in page.content.decode()
    assert still_english(page.content.decode()) == []

    authenticator(personas.guard_a)
    browser.force_login(personas.guard_a)
    second = browser.get(reverse("two-factor-verify"))
    assert second.status_code == 200
    assert still_english(second.content.decode()) == []


def test_the_check_sees_english_left_on_a_page():
    """The check itself: an English catalogue text or an everyday English word is found."""
    assert still_english("<p>Submit for review</p>") == ["Submit for review"]
    assert still_english('<nav aria-label="Incidents"></nav>') == ["Incidents"]
    assert still_english("<p>Zur Prüfung einreichen</p><script>Submit()</script>") == []


def test_the_tablet_scripts_get_every_sentence_in_german(german_guard):
    """The tablet's scripts show only the sentences the page hands them (`tablet-strings`,
    views/tablet_strings.py): for a German guard each one is the catalogue's German."""
    page = german_guard.get(reverse("tablet")).content.decode()
    handed = json.loads(re.search(r'id="tablet-strings"[^>]*>(.*?)</script>', page, re.S)[1])
    german = po_entries()
    with translation.override("en-gb"):
        english = {key: str(text) for key, text in TABLET_STRINGS.items()}
    untranslated = [text for text in english.values() if not german.get(text, [""])[0]]
    assert untranslated == [], "translate these in the catalogue and run `make messages`"
    assert handed == {key: german[text][0] for key, text in english.items()}
