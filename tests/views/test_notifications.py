"""Notifications: who is told what, in the app and by email (their own choice per kind), each
notice recorded; the person's own list and choices."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import Notification
from facility_log.services import incidents as svc
from facility_log.services import notifications
from facility_log.services.audit import audited_change
from tests.incident_factories import draft, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def addresses(personas):
    """Email addresses for the people of site A (the outsider has one too)."""
    for person, email in [
        (personas.guard_a, "gina@example.org"),
        (personas.supervisor_a, "sam@example.org"),
        (personas.manager_ab, "mia@example.org"),
        (personas.outsider_c, "otto@example.org"),
    ]:
        person.email = email
        with audited_change(personas.admin, "test: email address"):
            person.save()
    return personas


def _emails_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def test_a_critical_incident_emails_each_manager_who_asked_once(
    addresses, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://log.example.org"
    incident = draft(addresses, severity="critical")
    with django_capture_on_commit_callbacks(execute=True):
        incident = svc.submit_incident(incident, addresses.guard_a)
    severe = _emails_to("mia@example.org")
    assert len(severe) == 1
    assert "Critical incident" in severe[0].subject and incident.number in severe[0].subject
    assert f"https://log.example.org/incidents/{incident.pk}/" in severe[0].body
    # The supervisor is told a report waits; nobody outside site A hears anything.
    assert len(_emails_to("sam@example.org")) == 1
    assert _emails_to("otto@example.org") == [] and _emails_to("gina@example.org") == []
    notice = Notification.objects.get(recipient=addresses.manager_ab)
    assert (notice.kind, notice.emailed_to) == ("severe_incident", "mia@example.org")


def test_a_manager_who_turned_email_off_gets_the_notice_in_the_app_only(
    addresses, client_for, django_capture_on_commit_callbacks
):
    client = client_for("manager_ab")
    response = client.post(
        reverse("notification-settings"), {"email": ["urgent_alarm", "report_returned"]}
    )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        submitted(addresses, severity="high")
    assert _emails_to("mia@example.org") == []
    notice = Notification.objects.get(recipient=addresses.manager_ab)
    assert notice.emailed_to == ""
    assert notice.subject in client.get(reverse("notification-list")).content.decode()
    # The choice is kept in history with who made it.
    from facility_log.models import NotificationPreference

    choice = NotificationPreference.objects.get(user=addresses.manager_ab, kind="severe_incident")
    assert choice.email is False
    assert choice.history.latest().history_user == addresses.manager_ab


def test_a_medium_incident_does_not_disturb_managers(addresses):
    submitted(addresses, severity="medium")
    assert not Notification.objects.filter(recipient=addresses.manager_ab).exists()
    assert Notification.objects.filter(recipient=addresses.supervisor_a).count() == 1


def test_the_author_is_told_when_their_report_is_returned(addresses, client_for):
    incident = submitted(addresses)
    svc.return_incident(incident, addresses.supervisor_a, comment="Which gate?")
    notice = Notification.objects.get(recipient=addresses.guard_a)
    assert notice.kind == "report_returned" and "Which gate?" in notice.body
    client = client_for("guard_a")
    listing = client.get(reverse("notification-list")).content.decode()
    assert "returned to you" in listing and "1 unread" in listing
    opened = client.get(reverse("notification-open", args=[notice.pk]))
    assert opened.status_code == 302 and opened["Location"] == f"/incidents/{incident.pk}/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    # Nobody else opens it.
    assert (
        client_for("supervisor_a").get(reverse("notification-open", args=[notice.pk])).status_code
        == 404
    )


def test_urgent_alarms_of_one_import_make_one_notice_per_person(addresses):
    from tests.access.helpers import door, ingest, row

    door(addresses.site_a, addresses.zone_a)
    ingest(
        addresses.site_a,
        [
            row(line=2, event_type="forced_open", external_id="f1"),
            row(line=3, event_type="duress", external_id="d1"),
            row(line=4, event_type="forced_open", external_id="f2"),
            row(line=5, event_type="held_open", external_id="h1"),
        ],
    )
    notices = Notification.objects.filter(kind="urgent_alarm")
    assert sorted(n.recipient.username for n in notices) == ["manager_ab", "supervisor_a"]
    assert "3 duress / forced open alarms" in notices[0].subject
    assert not Notification.objects.filter(recipient=addresses.guard_a).exists()


def test_mark_all_read_only_marks_ones_own(addresses, client_for):
    submitted(addresses)
    submitted(addresses, severity="critical")
    client = client_for("supervisor_a")
    client.post(reverse("notification-mark-all-read"))
    assert not Notification.objects.filter(recipient=addresses.supervisor_a, read_at=None).exists()
    assert Notification.objects.filter(recipient=addresses.manager_ab, read_at=None).exists()


def test_a_failed_email_is_recorded_on_the_notice(
    addresses, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        submitted(addresses)
    notice = Notification.objects.get(recipient=addresses.supervisor_a)
    assert notice.emailed_to == "sam@example.org" and notice.email_error


def test_the_list_costs_the_same_for_many_notices(addresses, client_for):
    client = client_for("supervisor_a")
    submitted(addresses)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("notification-list"))
    for _ in range(6):
        submitted(addresses)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("notification-list"))
    assert len(many) == len(few)


def test_a_rolled_back_change_tells_nobody(addresses):
    incident = draft(addresses)
    with pytest.raises(RuntimeError), audited_change(addresses.guard_a, "test"):
        notifications.report_submitted(svc.submit_incident(incident, addresses.guard_a))
        raise RuntimeError("the change fails after the notice was written")
    assert Notification.objects.count() == 0
