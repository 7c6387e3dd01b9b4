"""`manage.py check_rounds`: each missed round recorded once, supervisors emailed once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from facility_log.models import Notification, RoundException
from facility_log.services import accounts, sites
from tests.rounds_helpers import every_two_hours, night_route

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_with_email(personas):
    user = accounts.create_user(
        personas.admin,
        username="night_supervisor",
        password=None,
        email="night@example.test",
        reason="test",
    )
    sites.grant_membership(
        personas.site_a, personas.admin, user=user, role="supervisor", reason="test"
    )
    return user


def test_check_rounds_twice_records_each_missed_round_once_and_emails_once(
    personas, supervisor_with_email, capsys, django_capture_on_commit_callbacks
):
    route, _ = night_route(personas)
    every_two_hours(personas, route, active_from=timezone.now() - timedelta(hours=30))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_rounds")
    first = set(RoundException.objects.values_list("key", flat=True))
    history = RoundException.history.count()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_rounds")

    assert len(first) >= 5  # at least one whole night of 5 windows in the last 30 hours
    assert set(RoundException.objects.values_list("key", flat=True)) == first
    assert RoundException.history.count() == history
    assert {e.kind for e in RoundException.objects.all()} == {"missed_round"}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["night@example.test"]
    assert f"{len(first)} round exception(s)" in mail.outbox[0].subject
    # The notice is also in the supervisor's in-app list, with the address it was sent to.
    notice = Notification.objects.get(recipient=supervisor_with_email)
    assert (notice.kind, notice.emailed_to) == ("missed_round", "night@example.test")
    assert "new exception(s)" in capsys.readouterr().out


def test_check_rounds_with_nothing_to_report_sends_nothing(
    personas, supervisor_with_email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_rounds")
    assert RoundException.objects.count() == 0
    assert mail.outbox == []
