"""A detail page's record read by a query compiled once (services/scoped_get.py) answers as
`scoping.get_scoped_with_roles` does, for every persona: the same record with the same
related records and annotation, the same roles, 404 (same message) to whoever has no role
at its site or cannot act, 403 (same message) to a role that is not enough; and the four
detail pages that read so give the same bytes as with the ORM's read."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Alarm
from facility_log.scoping import (
    MANAGE_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    get_scoped_with_roles,
)
from facility_log.services import incident_page
from facility_log.services.accounts import system_actor
from facility_log.services.scoped_get import ScopedGet
from facility_log.views import access, rounds, shifts
from tests.access.helpers import door, ingest, row
from tests.incident_factories import submitted
from tests.rounds_helpers import night_route, walk
from tests.shifts_helpers import ago, worked

pytestmark = pytest.mark.django_db


def _records(p):
    """One record of each page at site A: incident, shift, run, alarm (with its site's own
    priority, the annotation the alarm page reads)."""
    door(p.site_a, p.zone_a)
    ingest(p.site_a, [row(event_type="forced_open", external_id="scoped-get")])
    alarm = Alarm.objects.get(event__external_id="scoped-get")
    route, checkpoints = night_route(p, names=("Gate",), minutes=(0,))
    run = walk(p, route, checkpoints, timezone.now() - timedelta(hours=1), [0], finish=False)
    return {
        "incident": (incident_page._SCOPED_INCIDENT, submitted(p)),
        "shift": (shifts._SCOPED_SHIFT, worked(p, at=ago(hours=10), hours=8, notes="x")),
        "run": (rounds._SCOPED_RUN, run),
        "alarm": (access._SCOPED_ALARM, alarm),
    }


def _old(scoped_get: ScopedGet, user, pk, roles):
    queryset = {
        "Incident": lambda: incident_page.Incident.objects.select_related(
            "site", "zone", "category", "author"
        ),
        "Shift": lambda: shifts.Shift.objects.select_related("site", "guard"),
        "Run": lambda: rounds.Run.objects.select_related("site", "route", "guard", "schedule"),
        "Alarm": access._alarm_for_page_query,
    }[scoped_get._model.__name__]
    return get_scoped_with_roles(queryset(), user, roles, pk=pk)


def _outcome(call):
    try:
        record, held = call()
    except (Http404, PermissionDenied) as error:
        return type(error).__name__, str(error)
    related = {
        name: getattr(record, name).pk if getattr(record, name, None) is not None else None
        for name in (
            "site",
            "zone",
            "category",
            "author",
            "guard",
            "route",
            "schedule",
            "door",
            "event",
            "acknowledged_by",
        )
        if name in {f.name for f in type(record)._meta.fields}
    }
    values = {f.attname: getattr(record, f.attname) for f in type(record)._meta.concrete_fields}
    return values, related, getattr(record, "own_priority", None), held


def test_every_persona_gets_what_get_scoped_with_roles_gave(personas):
    p = personas
    people = [*p.all_people().values(), system_actor()]
    inactive = p.all_people()["guard_a"]
    for _name, (scoped_get, record) in _records(p).items():
        for user in people:
            for roles in (VIEW_ROLES, REPORT_ROLES, REVIEW_ROLES, MANAGE_ROLES):
                for pk in (record.pk, record.pk + 100_000, 0, -5, 10**30):
                    ours = _outcome(lambda: scoped_get.get(user, pk, roles))  # noqa: B023
                    if pk == 10**30:
                        theirs = ("Http404", f"No {record._meta.verbose_name} found.")
                    else:
                        theirs = _outcome(lambda: _old(scoped_get, user, pk, roles))  # noqa: B023
                    assert ours == theirs, (user, roles, pk)
        inactive.is_active = False
        assert _outcome(lambda: scoped_get.get(inactive, record.pk, VIEW_ROLES)) == (  # noqa: B023
            "Http404",
            f"No {record._meta.verbose_name} found.",
        )
        inactive.is_active = True


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    html = re.sub(r'name="client_uuid" value="[^"]*"', "uuid", html)  # fresh per request
    html = re.sub(r'data-client-uuid="[^"]*"', "uuid", html)
    html = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "T", html)  # the report's generated time
    return re.sub(r'nonce="[^"]*"', "nonce", html)


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_detail_pages_are_the_bytes_they_were(personas, client_for, monkeypatch, language):
    records = _records(personas)
    urls = {
        "incident": reverse("incident-page", args=[records["incident"][1].pk]),
        "shift": reverse("shift-report", args=[records["shift"][1].pk]),
        "run": reverse("round-run", args=[records["run"][1].pk]),
        "alarm": reverse("access-alarm-page", args=[records["alarm"][1].pk]),
    }
    for viewer in ("supervisor_a", "manager_ab", "guard_a"):
        client = client_for(viewer)
        for name, url in urls.items():
            scoped_get = records[name][0]
            new = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            with monkeypatch.context() as patch:
                patch.setattr(scoped_get, "get", lambda u, pk, r, g=scoped_get: _old(g, u, pk, r))
                old = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert new.status_code == old.status_code, (viewer, name)
            assert _normalised(new.content.decode()) == _normalised(old.content.decode())
        assert client_for("outsider_c").get(urls["alarm"]).status_code == 404
