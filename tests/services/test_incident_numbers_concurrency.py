"""Concurrent submissions at one site get consecutive numbers, without gaps or duplicates.

This needs a database with real row locks and concurrent connections: PostgreSQL. On SQLite
transactions are IMMEDIATE, so writers queue one after another and the race cannot happen.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from facility_log.models import Incident, IncidentCounter
from facility_log.services import incidents as svc
from tests.incident_factories import draft
from tests.personas import build_personas

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (concurrent writers and SELECT ... FOR UPDATE); run with "
    "DATABASE_URL=postgres://...",
)

THREADS = 8


def _submit_all_at_once(incidents, actor) -> list[BaseException]:
    barrier = threading.Barrier(len(incidents))
    errors: list[BaseException] = []

    def submit(incident):
        try:
            barrier.wait(timeout=10)
            svc.submit_incident(incident, actor)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i,)) for i in incidents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_get_consecutive_numbers(transactional_db):
    personas = build_personas()
    incidents = [draft(personas), draft(personas)]
    assert _submit_all_at_once(incidents, personas.guard_a) == []
    numbers = sorted(Incident.objects.values_list("number", flat=True))
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["0001", "0002"]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_submissions_queued_on_the_counter_get_consecutive_numbers(transactional_db):
    """Hold the site's counter row while THREADS submissions start, so all of them are in
    flight at once; released, they must still come out as consecutive numbers. (Without the
    row lock they all read the same last number and collide.)"""
    personas = build_personas()
    svc.submit_incident(draft(personas), personas.guard_a)  # the counter row now exists
    incidents = [draft(personas) for _ in range(THREADS)]
    result: list[BaseException] = []
    runner = threading.Thread(
        target=lambda: result.extend(_submit_all_at_once(incidents, personas.guard_a))
    )
    with transaction.atomic():
        IncidentCounter.objects.select_for_update().get(site=personas.site_a)
        runner.start()
        deadline = time.monotonic() + 20
        while _waiting_on_locks() < THREADS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_locks() == THREADS
    runner.join(timeout=60)
    assert result == []
    numbers = [int(n.rsplit("-", 1)[1]) for n in Incident.objects.values_list("number", flat=True)]
    assert sorted(numbers) == list(range(1, THREADS + 2))
