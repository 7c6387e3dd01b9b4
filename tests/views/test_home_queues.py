"""Work queues on the home page: what waits for each persona, counted per site, linking to the
list behind each count, at a query cost that does not grow with the number of items."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.services import incidents as svc
from facility_log.services import rounds
from tests.incident_factories import draft, submitted
from tests.rounds_helpers import night_route


def _home(client) -> str:
    return client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_supervisor_sees_reports_to_review_with_a_link_to_the_queue(personas, client_for):
    submitted(personas)
    submitted(personas)
    html = _home(client_for("supervisor_a"))
    queue = reverse("incident-review-queue")
    assert f'<a href="{queue}?site=ALPHA"><strong class="count attention">2</strong> reports' in (
        html
    )


@pytest.mark.django_db
def test_guard_sees_the_report_returned_to_them_and_their_drafts(personas, client_for):
    incident = submitted(personas)
    incident = svc.return_incident(incident, personas.supervisor_a, comment="Which gate?")
    mine = draft(personas)
    html = _home(client_for("guard_a"))
    assert "1 report returned to you" in html
    assert reverse("incident-page", args=[incident.pk]) in html
    assert "1 draft</strong> not submitted yet" in html
    assert reverse("incident-page", args=[mine.pk]) in html
    # A guard supervises nothing: no review counts.
    assert "to review" not in html
    # Nobody else is told about another's returned report.
    assert "returned to you" not in _home(client_for("supervisor_a"))


@pytest.mark.django_db
def test_guard_sees_their_open_shift_and_round(personas, client_for):
    from facility_log.services import shifts

    route, _ = night_route(personas)
    rounds.start_run(route, personas.guard_a, started_at=timezone.now() - timedelta(minutes=5))
    shifts.start_shift(personas.site_a, personas.guard_a, client_uuid=uuid.uuid4())
    html = _home(client_for("guard_a"))
    assert "On shift since" in html
    assert "Night round</a> in progress" in html


@pytest.mark.django_db
def test_manager_sees_counts_across_sites_and_the_outsider_sees_none(personas, client_for):
    submitted(personas)
    html = _home(client_for("manager_ab"))
    assert "Across your 2 sites" in html
    assert '<strong class="count attention">1</strong> report to review' in html
    outsider = _home(client_for("outsider_c"))
    assert "to review" not in outsider and "ALPHA" not in outsider


@pytest.mark.django_db
def test_missed_rounds_are_counted_from_the_sites_own_midnight(personas):
    from datetime import UTC, datetime

    from facility_log.models import RoundException
    from facility_log.services import work_queues
    from facility_log.services.accounts import system_actor
    from tests.rounds_helpers import every_two_hours

    # Noon UTC on 20 November: 13:00 in Berlin (site A). The night's windows 22:00 (the 19th),
    # 00:00, 02:00 and 04:00 were all missed; only those after Berlin's midnight are "today".
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    route, _ = night_route(personas)
    every_two_hours(personas, route, active_from=now - timedelta(days=3))
    rounds.check_rounds(system_actor(), now=now, since=now - timedelta(days=1))
    berlin_midnight = datetime(2026, 11, 19, 23, tzinfo=UTC)
    missed = RoundException.objects.filter(site=personas.site_a, kind="missed_round")
    today = missed.filter(window_start__gte=berlin_midnight).count()
    assert today >= 3 and missed.filter(window_start__lt=berlin_midnight).exists()
    queue = work_queues.site_queues(personas.supervisor_a, [personas.site_a], now=now)
    assert queue[personas.site_a.pk].missed_rounds_today == today


@pytest.mark.django_db
def test_home_queries_do_not_grow_with_items(personas, client_for):
    client = client_for("manager_ab")
    submitted(personas)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for _ in range(5):
        submitted(personas)
        svc.return_incident(submitted(personas), personas.supervisor_a, comment="more")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many) == len(few)


@pytest.mark.django_db
def test_a_returned_report_is_shown_on_its_authors_tablet_with_the_reason(personas, client_for):
    incident = svc.return_incident(
        submitted(personas), personas.supervisor_a, comment="Which gate?"
    )
    html = client_for("guard_a").get(reverse("tablet")).content.decode()
    assert "Returned to you" in html
    assert reverse("incident-page", args=[incident.pk]) in html
    assert "“Which gate?”" in html
    assert (
        "Returned to you" not in client_for("supervisor_a").get(reverse("tablet")).content.decode()
    )


@pytest.mark.django_db
def test_open_alarms_are_counted_by_priority_on_the_supervisors_home(personas, client_for):
    from tests.access.helpers import door, ingest, row

    door(personas.site_a, personas.zone_a)
    ingest(
        personas.site_a,
        [
            row(line=2, event_type="duress", external_id="d1"),
            row(line=3, event_type="tamper", external_id="t1"),
            row(line=4, event_type="tamper", external_id="t2"),
        ],
    )
    html = _home(client_for("supervisor_a"))
    assert "Critical: 1</span>" in html and "Elevated: 2</span>" in html
