"""Supervisors sign off round exceptions with a comment, several at once; the home page counts
what waits; others cannot."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from facility_log.models import RoundException
from facility_log.services import rounds
from tests.rounds_helpers import night_route, walk

pytestmark = pytest.mark.django_db


def _exceptions(personas) -> list[RoundException]:
    """A run that skipped two of three checkpoints: missed-checkpoint exceptions at site A."""
    route, checkpoints = night_route(personas)
    walk(personas, route, checkpoints, timezone.now() - timedelta(hours=2), [0, None, None])
    found = list(RoundException.objects.filter(site=personas.site_a))
    assert len(found) >= 2
    return found


def test_a_supervisor_signs_off_several_with_one_comment(personas, client_for):
    first, second, *rest = _exceptions(personas)
    client = client_for("supervisor_a")
    home = client.get(reverse("home")).content.decode()
    assert f">{2 + len(rest)}</strong> exceptions to sign off" in home
    url = reverse("round-exceptions", args=["ALPHA"])
    page = client.get(url).content.decode()
    assert f'value="{first.pk}"' in page and f'value="{second.pk}"' in page
    response = client.post(
        url, {"exceptions": [first.pk, second.pk], "comment": "Dock was locked; guard ill."}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.signed_off_by == personas.supervisor_a
    assert first.sign_off_comment == "Dock was locked; guard ill."
    assert first.history.latest().history_change_reason.endswith("Dock was locked; guard ill.")
    page = client.get(url).content.decode()
    assert f'value="{first.pk}"' not in page and "Dock was locked" in page


def test_sign_off_needs_a_comment_and_open_exceptions_of_the_site(personas, client_for):
    first, *_ = _exceptions(personas)
    client = client_for("supervisor_a")
    url = reverse("round-exceptions", args=["ALPHA"])
    html = client.post(
        url, {"exceptions": [first.pk], "comment": " "}, follow=True
    ).content.decode()
    assert "Say what was done" in html
    rounds.sign_off_exceptions(personas.site_a, personas.supervisor_a, [first.pk], comment="ok")
    html = client.post(
        url, {"exceptions": [first.pk], "comment": "again"}, follow=True
    ).content.decode()
    assert f"Not open at ALPHA (signed off or withdrawn already?): {first.pk}." in html
    first.refresh_from_db()
    assert first.sign_off_comment == "ok"
    # Site B's manager page cannot sign off site A's exceptions.
    other = client_for("manager_ab").post(
        reverse("round-exceptions", args=["BRAVO"]),
        {
            "exceptions": [RoundException.objects.filter(signed_off_at=None).first().pk],
            "comment": "x",
        },
        follow=True,
    )
    assert "Not open at BRAVO" in other.content.decode()


@pytest.mark.parametrize("who", ["guard_a", "auditor_a", "outsider_c"])
def test_guards_auditors_and_outsiders_cannot_sign_off(personas, client_for, who):
    first, *_ = _exceptions(personas)
    client = client_for(who)
    url = reverse("round-exceptions", args=["ALPHA"])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"exceptions": [first.pk], "comment": "x"}).status_code in (403, 404)
    first.refresh_from_db()
    assert first.signed_off_at is None
