"""The periodic work that cron (or the task worker) runs: missed rounds, unacknowledged
alarms, lone workers' missed check-ins and overdue keys (the retention purge is
`services.retention.purge_expired`). The management commands and the background tasks both
call these, so a run does the same whether it is started from a terminal or picked up by
`manage.py db_worker` on any server.

Each is safe to run again or side by side: rounds exceptions, alarm escalations and overdue
key notices are recorded once (the second run finds nothing new), and a purge removes what is
still there."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from facility_log.services import keys, lone_worker, notifications, rounds
from facility_log.services.access import alarms_to_escalate, escalate_alarm
from facility_log.services.accounts import system_actor
from facility_log.services.audit import audited_change


@dataclass
class RoundsCheck:
    """What one `check_rounds` run recorded, and the sites whose supervisors' email failed."""

    recorded: int = 0
    failed_sites: list[str] = field(default_factory=list)


def check_rounds_and_notify(actor: AbstractBaseUser) -> RoundsCheck:
    """Record missed rounds and overdue runs (each once) and email each site's supervisors
    what is new (in the app, and by email to those who want it). An email that fails does
    not undo the records: the live view shows them."""
    recorded = rounds.check_rounds(actor)
    by_site = defaultdict(list)
    for exception in recorded:
        by_site[exception.site].append(exception)
    result = RoundsCheck(recorded=len(recorded))
    for site, found in by_site.items():
        if not _notify_supervisors(site, found):
            result.failed_sites.append(site.code)
    return result


def _notify_supervisors(site, exceptions) -> bool:
    """Tell the site's supervisors (in the app; by email to those who want it). False when an
    email could not be sent (the notice records why)."""
    with audited_change(system_actor(), "round exceptions noticed"):
        notices = notifications.missed_rounds(site, exceptions)
    return not any(notice.email_error for notice in notices)


def escalate_due_alarms(actor: AbstractBaseUser) -> list[tuple[object, list[str]]]:
    """Escalate every alarm past its delay that nobody acknowledged; returns (alarm,
    recipients) for those this run escalated (not those a concurrent run took)."""
    escalated = []
    for alarm in alarms_to_escalate():
        recipients = escalate_alarm(alarm, actor)
        if recipients is not None:
            escalated.append((alarm, recipients))
    return escalated


def check_lone_workers(actor: AbstractBaseUser) -> list:
    """Raise an alarm for each check-in a guard working alone missed (each exactly once) and
    tell the sites' supervisors and managers at once; returns the alarms this run raised."""
    return lone_worker.raise_missed_check_ins(actor)


def notify_overdue_keys(actor: AbstractBaseUser) -> list:
    """Tell each site's supervisors and managers about keys not returned by their expected
    time, once per issued key or set; returns the issues this run told about."""
    return keys.notify_overdue_keys(actor)
