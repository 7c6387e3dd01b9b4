"""Notices: who is told what, in the app and by email.

Every notice is a `Notification` row for one person (their in-app list), written in the same
transaction as the change that caused it, so a rolled-back change tells nobody. The email goes
after the commit, to people who have an address and did not turn that kind off; a failed email
is recorded on the notice. Links are full URLs (`settings.SITE_URL`).

Who is told:
- a report submitted: the site's supervisors; high or critical: also its managers, at once;
- a report returned: its author;
- duress and forced-door alarms: the site's supervisors and managers, at once (one notice per
  person per import chunk, however many alarms it raised);
- an alarm unacknowledged past its limit (`check_alarms`): supervisors and managers;
- missed rounds (`check_rounds`): supervisors;
- keys not returned by their expected time (`check_keys`): supervisors and managers, once.
"""

import logging
import smtplib
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from facility_log.models import (
    Membership,
    Notification,
    NotificationKind,
    NotificationPreference,
    Role,
    Site,
)
from facility_log.models.access import EventType
from facility_log.models.incidents import Severity
from facility_log.services.audit import audited_change

log = logging.getLogger(__name__)

URGENT_ALARM_TYPES = frozenset({EventType.DURESS, EventType.MISSED_CHECK_IN, EventType.FORCED_OPEN})
SEVERE = frozenset({Severity.HIGH, Severity.CRITICAL})
SUBJECT_PREFIX = "[facility_log]"


def full_url(path: str) -> str:
    """`path` as a link that works from an email."""
    return f"{settings.SITE_URL}{path}"


def people_at(site: Site, roles: Iterable[str]) -> list[AbstractBaseUser]:
    """Active people holding one of `roles` at `site`, each once."""
    user_ids = Membership.objects.filter(
        site=site, role__in=list(roles), is_active=True, user__is_active=True
    ).values("user_id")
    return list(get_user_model().objects.filter(pk__in=user_ids).order_by("pk"))


def notify(
    kind: str,
    site: Site,
    recipients: Iterable[AbstractBaseUser],
    *,
    subject: str,
    body: str,
    path: str,
) -> list[Notification]:
    """Write one notice per recipient (inside the caller's `audited_change`) and email those
    who want it once the transaction commits."""
    people = list({user.pk: user for user in recipients if user.is_active}.values())
    if not people:
        return []
    email_off = set(
        NotificationPreference.objects.filter(user__in=people, kind=kind, email=False).values_list(
            "user_id", flat=True
        )
    )
    made = []
    for user in people:
        notice = Notification(
            recipient=user,
            site=site,
            kind=kind,
            subject=f"{SUBJECT_PREFIX} {subject}"[:200],
            body=body,
            path=path,
            emailed_to=user.email if user.email and user.pk not in email_off else "",
        )
        notice.save()
        made.append(notice)
    to_email = [notice for notice in made if notice.emailed_to]
    if to_email:
        transaction.on_commit(lambda: send_emails(to_email), robust=True)
    return made


def send_emails(notices: list[Notification]) -> list[Notification]:
    """Email each notice to its address; record on the notice why one could not be sent.
    Returns the notices that failed."""
    failed = []
    for notice in notices:
        try:
            send_mail(
                notice.subject,
                f"{notice.body}\n\n{full_url(notice.path)}\n",
                settings.DEFAULT_FROM_EMAIL,
                [notice.emailed_to],
            )
        except (OSError, smtplib.SMTPException) as error:
            log.warning("notice %s to %s not emailed: %s", notice.pk, notice.emailed_to, error)
            failed.append(_record_failure(notice, error))
    return failed


def _record_failure(notice: Notification, error: Exception) -> Notification:
    from facility_log.services.accounts import system_actor

    with audited_change(system_actor(), "notice email failed"):
        notice.email_error = str(error)[:300] or type(error).__name__
        notice.save(update_fields=["email_error"])
    return notice


# --- what causes a notice ------------------------------------------------------------------


def report_submitted(incident) -> list[Notification]:
    """A report waits for review: the site's supervisors; managers too when it is severe."""
    path = reverse("incident-page", args=[incident.pk])
    what = f"{incident.number} ({incident.get_severity_display()})"
    made = notify(
        NotificationKind.REPORT_SUBMITTED,
        incident.site,
        _others(people_at(incident.site, [Role.SUPERVISOR]), incident.author_id),
        subject=f"{incident.site.code}: report {what} waits for review",
        body=f"Report {what} at {incident.site.name} was submitted and waits for review.",
        path=path,
    )
    if incident.severity in SEVERE:
        made += notify(
            NotificationKind.SEVERE_INCIDENT,
            incident.site,
            people_at(incident.site, [Role.MANAGER]),
            subject=f"{incident.site.code}: {incident.get_severity_display()} incident "
            f"{incident.number}",
            body=f"A {incident.get_severity_display().lower()} incident, {incident.number}, "
            f"was submitted at {incident.site.name}.",
            path=path,
        )
    return made


def report_returned(incident, comment: str) -> list[Notification]:
    """The author is told what the reviewer asked for."""
    return notify(
        NotificationKind.REPORT_RETURNED,
        incident.site,
        [incident.author],
        subject=f"{incident.site.code}: report {incident.number} returned to you",
        body=f"Your report {incident.number} was returned: {comment}",
        path=reverse("incident-page", args=[incident.pk]),
    )


def urgent_alarms(site: Site, alarms: list) -> list[Notification]:
    """Duress, missed check-in and forced-door alarms, at once: one notice per person for
    all of `alarms`."""
    urgent = [alarm for alarm in alarms if alarm.event_type in URGENT_ALARM_TYPES]
    if not urgent:
        return []
    # Stored text stays in the site's base language, whoever's request raised the alarms.
    with translation.override(settings.LANGUAGE_CODE):
        kinds = sorted({str(EventType(alarm.event_type).label) for alarm in urgent})
    count = len(urgent)
    return notify(
        NotificationKind.URGENT_ALARM,
        site,
        people_at(site, [Role.SUPERVISOR, Role.MANAGER]),
        subject=f"{site.code}: {count} {' / '.join(kinds).lower()} alarm{'s' * (count > 1)}",
        body=f"{count} alarm{'s' * (count > 1)} ({', '.join(kinds)}) raised at {site.name} "
        f"at {timezone.localtime(timezone.now(), site.tzinfo):%Y-%m-%d %H:%M %Z}. "
        "Open the alarm console.",
        path=reverse("access-alarm-console") + f"?site={site.code}",
    )


def alarm_unacknowledged(alarm) -> list[Notification]:
    """An alarm nobody acknowledged within its limit: the site's supervisors and managers."""
    local = alarm.raised_at.astimezone(alarm.site.tzinfo)
    # A panic-button alarm has no door: it is where the guard last scanned a checkpoint.
    door = f" ({alarm.door.code})" if alarm.door_id else ""
    kind = alarm.get_event_type_display()
    # A missed check-in has no place: it says whose check-in is missing since when.
    at, where = (
        ("", f": {alarm.where}")
        if alarm.missed_check_in_id
        else (f" at {alarm.source_label}", f" at {alarm.where}{door}")
    )
    return notify(
        NotificationKind.ALARM_UNACKNOWLEDGED,
        alarm.site,
        people_at(alarm.site, [Role.SUPERVISOR, Role.MANAGER]),
        subject=f"{alarm.site.code}: {kind}{at} not acknowledged",
        body=f"Alarm #{alarm.pk}: {kind}{where}, "
        f"site {alarm.site.name}, raised {local:%Y-%m-%d %H:%M %Z}, "
        f"still not acknowledged after {alarm.escalate_after_minutes} minutes.",
        path=reverse("access-alarm-page", args=[alarm.pk]),
    )


def missed_rounds(site: Site, exceptions: list) -> list[Notification]:
    """Round exceptions just recorded at `site`: its supervisors."""
    lines = "\n".join(f"- {e.get_kind_display()}: {e.detail}" for e in exceptions)
    return notify(
        NotificationKind.MISSED_ROUND,
        site,
        people_at(site, [Role.SUPERVISOR]),
        subject=f"{site.code}: {len(exceptions)} round exception(s)",
        body=lines,
        path=reverse("rounds-site", args=[site.code]),
    )


def keys_overdue(site: Site, issues: list) -> list[Notification]:
    """Keys (or sets) of `site` not returned in time: its supervisors and managers, one notice
    per person for all of `issues`."""
    tz = site.tzinfo
    lines = "\n".join(
        f"- {issue.what}: {issue.holder_text}, "
        f"due {issue.expected_return_at.astimezone(tz):%Y-%m-%d %H:%M %Z}"
        for issue in issues
    )
    count = len(issues)
    return notify(
        NotificationKind.KEY_OVERDUE,
        site,
        people_at(site, [Role.SUPERVISOR, Role.MANAGER]),
        subject=ngettext(
            "%(site)s: %(count)d key not returned in time",
            "%(site)s: %(count)d keys not returned in time",
            count,
        )
        % {"site": site.code, "count": count},
        body=lines,
        path=reverse("keys-overdue", args=[site.code]),
    )


# --- the person's own list ------------------------------------------------------------------


def mark_read(user: AbstractBaseUser, notices: Iterable[Notification]) -> int:
    """Mark `user`'s unread `notices` read (each with a history row); returns how many."""
    unread = [n for n in notices if n.recipient_id == user.pk and n.read_at is None]
    if unread:
        with audited_change(user, "notices read"):
            now = timezone.now()
            for notice in unread:
                notice.read_at = now
                notice.save(update_fields=["read_at"])
    return len(unread)


def set_email_choices(user: AbstractBaseUser, wanted: set[str]) -> None:
    """Email the kinds in `wanted`, keep the others in the app only (a history row each)."""
    current = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    with audited_change(user, "notification choices changed"):
        for kind in NotificationKind.values:
            choice = current.get(kind) or NotificationPreference(user=user, kind=kind)
            if choice.pk is None or choice.email != (kind in wanted):
                choice.email = kind in wanted
                choice.save()


def email_choices(user: AbstractBaseUser) -> set[str]:
    """The kinds `user` gets by email (every kind unless turned off)."""
    off = set(
        NotificationPreference.objects.filter(user=user, email=False).values_list("kind", flat=True)
    )
    return set(NotificationKind.values) - off


def _others(users: list, excluded_pk) -> list:
    return [user for user in users if user.pk != excluded_pk]
