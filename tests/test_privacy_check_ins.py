"""PRIVACY.md and the check-in models agree: a lone worker's check-in records its time and its
shift, nothing else (no position, no checkpoint, no device), and a missed one only the shift
and the times the rule counted."""

from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


def _fields(name: str) -> set[str]:
    model = apps.get_model("facility_log", name)
    return {field.name for field in model._meta.get_fields() if field.concrete}


def test_a_check_in_holds_only_its_time_and_its_shift():
    # The idempotency key and the server's arrival time are bookkeeping, not about the guard.
    assert _fields("CheckIn") == {"id", "shift", "client_uuid", "checked_in_at", "received_at"}


def test_a_missed_check_in_holds_only_the_shift_and_the_times_counted():
    assert _fields("MissedCheckIn") == {"id", "shift", "since", "due_at", "detected_at"}


def test_the_lone_worker_rule_is_about_the_site_not_a_person():
    assert _fields("LoneWorkerPolicy") == {
        "id",
        "site",
        "enabled",
        "interval_minutes",
        "grace_minutes",
        "changed_at",
    }


def test_privacy_statement_says_what_a_check_in_records():
    text = (ROOT / "PRIVACY.md").read_text()
    assert "Lone-worker check-ins" in text
    assert (
        "the time of the check-in (the tablet's and the server's) and the shift, nothing else"
        in (text)
    )
