"""Retention periods per site and kind, and legal holds: who may set them, with a reason,
kept in history."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from facility_log.models import LegalHold, RecordKind, RetentionPolicy
from facility_log.services.retention import (
    active_hold,
    periods_for,
    place_legal_hold,
    release_legal_hold,
    retention_days,
    set_retention_period,
)
from tests.incident_factories import submitted

ROOT = Path(__file__).resolve().parent.parent.parent


def test_defaults_cover_every_kind_and_match_the_promise():
    assert settings.FACILITY_LOG["RETENTION_DAYS"] == {
        "access_events": 90,
        "rounds": 365,
        "shifts": 365,
        "incidents": 2557,
        "view_log": 730,
        "visitors": 30,
    }
    assert set(settings.FACILITY_LOG["RETENTION_DAYS"]) == set(RecordKind.values)


def test_a_default_can_be_set_from_the_environment_and_nonsense_is_refused():
    code = "from django.conf import settings; print(settings.FACILITY_LOG['RETENTION_DAYS'])"

    def run(value: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, FACILITY_LOG_RETENTION_ACCESS_EVENTS_DAYS=value)
        env["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
        return subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert "'access_events': 30" in run("30").stdout
    refused = run("ninety")
    assert refused.returncode != 0
    assert "FACILITY_LOG_RETENTION_ACCESS_EVENTS_DAYS='ninety' is not a number of days" in (
        refused.stderr
    )


@pytest.mark.django_db
def test_a_manager_sets_a_period_with_a_reason_kept_in_history(personas):
    site = personas.site_a
    assert retention_days(site, "access_events") == 90
    set_retention_period(
        site, personas.manager_ab, kind="access_events", days=30, reason="works council"
    )
    set_retention_period(site, personas.manager_ab, kind="access_events", days=60, reason="audit")
    assert retention_days(site, "access_events") == 60
    assert retention_days(personas.site_b, "access_events") == 90
    rows = RetentionPolicy.history.filter(site_id=site.pk).order_by("history_date")
    assert [(r.days, r.history_change_reason, r.history_user_name) for r in rows] == [
        (30, "works council", "manager_ab"),
        (60, "audit", "manager_ab"),
    ]
    periods = {p.kind: p for p in periods_for(site)}
    assert periods["access_events"].days == 60 and periods["access_events"].overridden
    assert periods["incidents"].days == 2557 and not periods["incidents"].overridden


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "auditor_a", "outsider_c"])
def test_only_managers_set_periods(personas, who):
    with pytest.raises(PermissionDenied):
        set_retention_period(
            personas.site_a, getattr(personas, who), kind="shifts", days=10, reason="r"
        )
    assert not RetentionPolicy.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "days", "reason", "field"),
    [
        ("shifts", 0, "r", "days"),
        ("shifts", 36501, "r", "days"),
        ("people", 10, "r", "kind"),
        ("shifts", 10, "  ", "reason"),
    ],
)
def test_bad_periods_are_refused(personas, kind, days, reason, field):
    with pytest.raises(ValidationError) as caught:
        set_retention_period(
            personas.site_a, personas.manager_ab, kind=kind, days=days, reason=reason
        )
    assert field in caught.value.message_dict
    assert not RetentionPolicy.objects.exists()


@pytest.mark.django_db
def test_a_hold_is_placed_and_released_with_reasons_in_history(personas):
    incident = submitted(personas)
    hold = place_legal_hold(incident, personas.manager_ab, reason="police case 4711")
    assert active_hold(incident) == hold
    with pytest.raises(ValidationError, match="already on legal hold"):
        place_legal_hold(incident, personas.manager_ab, reason="again")
    release_legal_hold(incident, personas.manager_ab, reason="case closed")
    assert active_hold(incident) is None
    with pytest.raises(ValidationError, match="not on legal hold"):
        release_legal_hold(incident, personas.manager_ab, reason="again")
    reasons = list(
        LegalHold.history.filter(id=hold.pk)
        .order_by("history_date")
        .values_list("history_change_reason", "history_user_name")
    )
    assert reasons == [
        ("legal hold placed: police case 4711", "manager_ab"),
        ("legal hold released: case closed", "manager_ab"),
    ]
    hold.refresh_from_db()
    assert hold.release_reason == "case closed" and hold.released_by == personas.manager_ab


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "auditor_a", "outsider_c"])
def test_only_managers_place_holds(personas, who):
    incident = submitted(personas)
    with pytest.raises(PermissionDenied):
        place_legal_hold(incident, getattr(personas, who), reason="r")
    assert not LegalHold.objects.exists()


@pytest.mark.django_db
def test_a_hold_needs_a_reason_and_one_active_hold_per_incident_is_enforced(personas):
    incident = submitted(personas)
    with pytest.raises(ValidationError, match="Say why"):
        place_legal_hold(incident, personas.manager_ab, reason=" ")
    place_legal_hold(incident, personas.manager_ab, reason="case")
    duplicate = LegalHold(
        incident=incident, reason="x", placed_by=personas.manager_ab, placed_at=incident.created_at
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
