"""Which language the pages speak: the person's own choice (kept in history) over the
browser's Accept-Language, which is the default; British English without either."""

import pytest
from django.test import Client
from django.urls import reverse

from facility_log.models import LanguagePreference
from facility_log.services import accounts
from tests.two_factor_helpers import verified_login

pytestmark = pytest.mark.django_db


def _language(response) -> str:
    return response["Content-Language"]


def test_the_browser_language_is_the_default(personas):
    german = verified_login(Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"), personas.guard_a)
    english = verified_login(Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"), personas.guard_a)
    unknown = verified_login(Client(HTTP_ACCEPT_LANGUAGE="fr-FR"), personas.guard_a)

    assert _language(german.get(reverse("home"))) == "de"
    assert ">Schichten</a>" in german.get(reverse("home")).content.decode()
    assert _language(english.get(reverse("home"))) == "en-gb"
    assert _language(unknown.get(reverse("home"))) == "en-gb"


def test_the_persons_choice_wins_over_the_browser_from_sign_in_on(personas):
    accounts.set_language(personas.guard_a, "de")
    english_browser = verified_login(Client(HTTP_ACCEPT_LANGUAGE="en"), personas.guard_a)
    assert _language(english_browser.get(reverse("home"))) == "de"

    accounts.set_language(personas.supervisor_a, "en-gb")
    german_browser = verified_login(Client(HTTP_ACCEPT_LANGUAGE="de"), personas.supervisor_a)
    assert _language(german_browser.get(reverse("home"))) == "en-gb"


def test_choosing_on_the_settings_page_applies_at_once_and_is_kept_in_history(personas):
    browser = verified_login(Client(HTTP_ACCEPT_LANGUAGE="en"), personas.guard_a)
    response = browser.post(reverse("language-choice"), {"language": "de"})
    assert response.status_code == 302

    page = browser.get(reverse("notification-settings"))
    assert _language(page) == "de"
    assert "Ihre Sprache ist gespeichert." in page.content.decode()
    choice = LanguagePreference.objects.get(user=personas.guard_a)
    assert choice.history.get().history_user == personas.guard_a

    browser.post(reverse("language-choice"), {"language": ""})
    assert _language(browser.get(reverse("home"))) == "en-gb"
    assert [row.language for row in choice.history.order_by("history_id")] == ["de", ""]


def test_a_language_not_offered_is_refused_and_nothing_is_written(personas):
    browser = verified_login(Client(), personas.guard_a)
    response = browser.post(reverse("language-choice"), {"language": "fr"}, follow=True)
    assert "Choose one of the languages offered." in response.content.decode()
    assert not LanguagePreference.objects.exists()
    with pytest.raises(ValueError, match="language"):
        accounts.set_language(personas.guard_a, "fr")


def test_the_choice_is_the_persons_own(personas):
    """Each person's choice applies to their own sessions only; the outsider and everyone
    else keep following their browser."""
    accounts.set_language(personas.guard_a, "de")
    for name in ("supervisor_a", "manager_ab", "outsider_c"):
        other = verified_login(Client(HTTP_ACCEPT_LANGUAGE="en"), personas.all_people()[name])
        assert _language(other.get(reverse("home"))) == "en-gb", name
