"""Work queues: what waits for a person, site by site, for the home page.

Supervisors and managers: reports to review, open alarms (new and acknowledged), missed rounds
of the site's day so far, round exceptions of the last 24 hours and those waiting for a
sign-off, keys overdue. Guards: their own returned
reports and drafts, their open shift and round. Each count is one grouped query over all the
user's sites, so the home page costs the same for one site or fifty.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from facility_log.models import Alarm, Incident, KeyIssue, RoundException, Run, Shift
from facility_log.models.access import AlarmState
from facility_log.models.incidents import Status
from facility_log.models.rounds import ExceptionKind
from facility_log.scoping import REPORT_ROLES, REVIEW_ROLES, site_id_list

# A person's own items are listed by name on the home page, up to this many.
OWN_ITEMS_SHOWN = 5
EXCEPTIONS_SINCE = timedelta(hours=24)


@dataclass
class SiteQueue:
    """The counts of one site (those the user's roles there let them act on)."""

    to_review: int = 0
    alarms_new: int = 0
    alarms_acknowledged: int = 0
    missed_rounds_today: int = 0
    exceptions_recent: int = 0
    to_sign_off: int = 0
    keys_overdue: int = 0
    # Open alarms by priority, most urgent first: [(label, css class, count), ...].
    alarms_by_priority: list = field(default_factory=list)

    @property
    def open_alarms(self) -> int:
        return self.alarms_new + self.alarms_acknowledged

    @property
    def total(self) -> int:
        return self.to_review + self.open_alarms + self.missed_rounds_today


@dataclass
class GuardQueue:
    """A guard's own work: returned reports first, then drafts, the open shift and round."""

    returned: list = field(default_factory=list)
    returned_count: int = 0
    drafts: list = field(default_factory=list)
    drafts_count: int = 0
    open_shifts: dict = field(default_factory=dict)  # site id → Shift
    open_runs: dict = field(default_factory=dict)  # site id → Run


def site_queues(user, sites, now=None) -> dict[int, SiteQueue]:
    """Per site id, the supervision counts at the sites in `sites` where `user` reviews, as
    of `now` (default: the present)."""
    reviews_at = set(site_id_list(user, REVIEW_ROLES))
    review_ids = [site.pk for site in sites if site.pk in reviews_at]
    queues = {site_id: SiteQueue() for site_id in review_ids}
    if not review_ids:
        return queues
    submitted = Incident.objects.filter(site_id__in=review_ids, status=Status.SUBMITTED)
    for row in submitted.values("site_id").annotate(n=Count("pk")):
        queues[row["site_id"]].to_review = row["n"]
    open_alarms = Alarm.objects.filter(site_id__in=review_ids).exclude(state=AlarmState.RESOLVED)
    for row in open_alarms.values("site_id").annotate(
        new=Count("pk", filter=Q(state=AlarmState.NEW)),
        acknowledged=Count("pk", filter=Q(state=AlarmState.ACKNOWLEDGED)),
    ):
        queue = queues[row["site_id"]]
        queue.alarms_new, queue.alarms_acknowledged = row["new"], row["acknowledged"]
    _count_by_priority(queues, open_alarms, review_ids)
    _count_round_exceptions(queues, [site for site in sites if site.pk in queues], now)
    _count_overdue_keys(queues, now)
    return queues


def _count_overdue_keys(queues: dict[int, SiteQueue], now=None) -> None:
    """Keys and key sets out past their expected return, per site."""
    overdue = KeyIssue.objects.filter(
        site_id__in=list(queues),
        returned_at__isnull=True,
        expected_return_at__lt=now or timezone.now(),
    )
    for row in overdue.values("site_id").annotate(n=Count("pk")).order_by():
        queues[row["site_id"]].keys_overdue = row["n"]


def _count_by_priority(queues: dict[int, SiteQueue], open_alarms, site_ids: list[int]) -> None:
    from facility_log.services.alarm_priorities import (
        PRIORITY_CLASSES,
        PRIORITY_NAMES,
        with_priority,
    )

    rows = (
        with_priority(open_alarms, site_ids)
        .values("site_id", "priority")
        .annotate(n=Count("pk"))
        .order_by("site_id", "priority")
    )
    for row in rows:
        queues[row["site_id"]].alarms_by_priority.append(
            (PRIORITY_NAMES[row["priority"]], PRIORITY_CLASSES[row["priority"]], row["n"])
        )


def _count_round_exceptions(queues: dict[int, SiteQueue], sites, now=None) -> None:
    """Missed rounds of each site's local day so far, and exceptions of the last 24 hours."""
    now = now or timezone.now()
    day_starts = Q()
    for site in sites:
        local_midnight = timezone.localtime(now, site.tzinfo).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        day_starts |= Q(site_id=site.pk, window_start__gte=local_midnight)
    live = RoundException.objects.filter(site_id__in=list(queues), withdrawn_at__isnull=True)
    for row in live.values("site_id").annotate(
        missed=Count("pk", filter=Q(kind=ExceptionKind.MISSED_ROUND) & day_starts),
        recent=Count("pk", filter=Q(detected_at__gte=now - EXCEPTIONS_SINCE)),
        open=Count("pk", filter=Q(signed_off_at__isnull=True)),
    ):
        queue = queues[row["site_id"]]
        queue.missed_rounds_today, queue.exceptions_recent = row["missed"], row["recent"]
        queue.to_sign_off = row["open"]


def guard_queue(user) -> GuardQueue:
    """The user's own returned reports and drafts, and what they have open right now."""
    report_ids = site_id_list(user, REPORT_ROLES)
    mine = Incident.objects.filter(author=user, site_id__in=report_ids).select_related("site")
    returned = mine.filter(status=Status.RETURNED).order_by("-created_at", "-pk")
    drafts = mine.filter(status=Status.DRAFT).order_by("-created_at", "-pk")
    queue = GuardQueue(
        returned=list(returned[:OWN_ITEMS_SHOWN]),
        returned_count=returned.count(),
        drafts=list(drafts[:OWN_ITEMS_SHOWN]),
        drafts_count=drafts.count(),
    )
    for shift in Shift.objects.filter(guard=user, ended_at__isnull=True, site_id__in=report_ids):
        queue.open_shifts[shift.site_id] = shift
    for run in Run.objects.filter(
        guard=user, finished_at__isnull=True, site_id__in=report_ids
    ).select_related("route"):
        queue.open_runs.setdefault(run.site_id, run)
    return queue


def returned_reports(user) -> list:
    """The user's reports returned to them, newest first, each with the reviewer's comment
    as `returned_comment` (two queries)."""
    from facility_log.models import Review
    from facility_log.models.incidents import ReviewDecision

    report_ids = site_id_list(user, REPORT_ROLES)
    incidents = list(
        Incident.objects.filter(author=user, site_id__in=report_ids, status=Status.RETURNED)
        .select_related("site")
        .order_by("-created_at", "-pk")[:OWN_ITEMS_SHOWN]
    )
    comments = {}
    for incident_id, comment in (
        Review.objects.filter(incident__in=incidents, decision=ReviewDecision.RETURNED)
        .order_by("created_at", "pk")
        .values_list("incident_id", "comment")
    ):
        comments[incident_id] = comment  # the latest return wins
    for incident in incidents:
        incident.returned_comment = comments.get(incident.pk, "")
    return incidents
