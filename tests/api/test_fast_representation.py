"""The API's read serializers send, through their reading plan made once per class
(facility_log/api/representation.py), exactly what DRF's own reading sends: same keys,
same values, same formats, in every time zone and output setting."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from facility_log.api.incidents.serializers import IncidentDetailSerializer, IncidentSerializer
from facility_log.api.representation import FastListSerializer
from facility_log.api.rounds.round_exceptions import RoundExceptionSerializer
from facility_log.api.rounds.runs import RunSerializer
from facility_log.api.rounds.scans import ScanJsonSerializer, ScanSerializer
from facility_log.api.shifts import ShiftSerializer
from facility_log.models import Incident, RoundException, Run, Scan, Shift
from facility_log.models.incidents import ThreatChannel
from facility_log.services import incidents as svc
from facility_log.services.prepared import with_statements
from facility_log.services.rounds import finish_run, start_run
from tests.incident_factories import draft, seed_site_a_incident, submitted
from tests.rounds_helpers import site_a_rounds
from tests.shifts_helpers import ago, site_a_shifts, worked

pytestmark = pytest.mark.django_db


def _drf(serializer_class, instances, **kwargs) -> str:
    """What DRF's own Serializer.to_representation sends, as JSON text."""
    child = serializer_class(**kwargs)
    return json.dumps([serializers.Serializer.to_representation(child, i) for i in instances])


def _assert_same(serializer_class, instances, **kwargs) -> list:
    listed = serializer_class(instances, many=True, **kwargs)
    assert isinstance(listed, FastListSerializer)
    sent = listed.data
    assert json.dumps(sent) == _drf(serializer_class, instances, **kwargs)
    for instance in instances:
        one = serializer_class(instance, **kwargs).data
        assert json.dumps(one) == _drf(serializer_class, [instance], **kwargs)[1:-1]
    return sent


def _incidents(personas) -> list:
    draft(personas, title="With zone and category")
    draft(personas, title="Without zone or category", zone=None, category=None)
    threat = draft(personas, title="A threat", threat_channel=ThreatChannel.values[0])
    submitted(personas, title="Submitted")
    svc.void_incident(threat, personas.manager_ab, reason="a test")
    return list(Incident.objects.select_related("site", "zone", "category", "author"))


def test_incidents_are_sent_as_drf_sends_them(personas):
    sent = _assert_same(IncidentSerializer, _incidents(personas))
    by_title = {row["title"]: row for row in sent}
    assert by_title["Without zone or category"]["zone_name"] is None
    assert by_title["Without zone or category"]["category"] is None
    assert by_title["With zone and category"]["occurred_from"].endswith("Z")


def test_an_incident_with_its_persons_and_photo_is_sent_as_drf_sends_it(personas):
    incident = seed_site_a_incident(personas)
    fresh = Incident.objects.select_related("site", "zone", "category", "author").get(
        pk=incident.pk
    )
    sent = _assert_same(IncidentDetailSerializer, [fresh])
    assert sent[0]["persons"][0]["name"] == "Walt Witness" and sent[0]["attachments"]
    # Only the nested lists are built for it, not every field of the serializer.
    serializer = IncidentDetailSerializer(fresh)
    assert serializer.data == sent[0] and "fields" not in serializer.__dict__


def test_times_follow_the_active_time_zone_as_drf_does(personas):
    incidents = _incidents(personas)
    with timezone.override("Europe/Paris"):
        sent = _assert_same(IncidentSerializer, incidents)
    assert sent[0]["created_at"][-6:] in ("+01:00", "+02:00")


def test_output_settings_are_followed_as_drf_follows_them(personas):
    incidents = _incidents(personas)
    rest = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%Y-%m-%d %H:%M"}
    with override_settings(REST_FRAMEWORK=rest):
        sent = _assert_same(IncidentSerializer, incidents)
    assert len(sent[0]["created_at"]) == len("2026-01-01 00:00")
    rest = {**settings.REST_FRAMEWORK, "COERCE_BIGINT_TO_STRING": True}
    with override_settings(REST_FRAMEWORK=rest):
        sent = _assert_same(IncidentSerializer, incidents)
    assert isinstance(sent[0]["id"], str)
    with override_settings(USE_TZ=False):
        _assert_same(IncidentSerializer, incidents)


def test_shifts_are_sent_as_drf_sends_them_with_their_report_url(personas):
    site_a_shifts(personas)
    shifts = list(Shift.objects.select_related("site", "guard"))
    sent = _assert_same(ShiftSerializer, shifts)
    for row in sent:
        assert row["report_url"] == reverse("shift-report", args=[row["id"]])
    open_shift = next(row for row in sent if row["ended_at"] is None)
    assert open_shift["previous_pass_down"] is None


def test_runs_scans_and_round_exceptions_are_sent_as_drf_sends_them(personas):
    rounds = site_a_rounds(personas)
    rounds.run.refresh_from_db()
    _assert_same(RunSerializer, list(Run.objects.select_related("site", "guard")))
    scans = list(Scan.objects.select_related("run__site"))
    _assert_same(ScanSerializer, scans)
    _assert_same(ScanJsonSerializer, scans)
    exceptions = list(RoundException.objects.select_related("site"))
    _assert_same(RoundExceptionSerializer, exceptions)


def test_relations_not_loaded_are_read_as_drf_reads_them(personas, django_assert_num_queries):
    """A relation left out of the query is read on demand, as DRF would; the ids of related
    records come from the row itself, without a query."""
    pks = [incident.pk for incident in _incidents(personas)]
    _assert_same(IncidentSerializer, list(Incident.objects.filter(pk__in=pks)))
    loaded = list(Incident.objects.select_related("site", "zone", "category", "author"))
    with django_assert_num_queries(0):
        IncidentSerializer(loaded, many=True).data  # noqa: B018


def test_a_shift_report_url_is_the_reversed_one_for_every_id():
    serializer = ShiftSerializer()
    for pk in (1, 42, 10**12):
        shift = Shift(pk=pk)
        assert serializer.get_report_url(shift) == reverse("shift-report", args=[pk])


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_shift_run_and_exception_lists_query_the_same_for_few_and_many_rows(
    personas, api_client_for
):
    """No row of a list reads a relation on its own (the run list no longer joins the
    route and schedule it sends by id)."""
    client = api_client_for("manager_ab")
    client.get("/api/v1/me/")  # the token's last-used stamp, written once a minute
    rounds = site_a_rounds(personas)
    site_a_shifts(personas)
    urls = ("/api/v1/shifts/", "/api/v1/runs/", "/api/v1/round-exceptions/", "/api/v1/scans/")
    few = [_queries(client, url) for url in urls]
    for hours in range(3, 9):
        worked(
            personas,
            at=ago(hours=hours * 10),
            hours=1,
            notes=f"notes {hours}",
            guard=personas.supervisor_a,
        )
        run = start_run(rounds.route, personas.guard_a, started_at=ago(hours=hours))
        finish_run(run, personas.guard_a, finished_at=run.started_at + timedelta(minutes=50))
    assert RoundException.objects.count() > 1 and Run.objects.count() > 6
    many = [_queries(client, url) for url in urls]
    assert many == few, dict(zip(urls, zip(few, many, strict=True), strict=True))
    shifts = client.get("/api/v1/shifts/").json()["results"]
    assert {row["pass_down_notes"] for row in shifts} >= {"notes 3", "notes 8"}


def test_the_incident_detail_reads_supplement_and_photo_authors_with_their_rows(
    personas, api_client_for
):
    incident = seed_site_a_incident(personas)
    client = api_client_for("manager_ab")
    client.get("/api/v1/me/")
    with CaptureQueriesContext(connection) as captured:
        body = client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["supplements"][0]["author"] and body["attachments"][0]["uploaded_by"]
    user_reads = [
        with_statements(q["sql"])
        for q in captured
        if with_statements(q["sql"]).startswith('SELECT "auth_user"')
    ]
    assert user_reads == [], user_reads
