from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from facility_log.models import Membership
from facility_log.scoping import ANY_ROLE, AUDIT_ROLES, sites_for
from facility_log.services import work_queues


def home(request):
    """The start page: what waits for the user (their returned reports and drafts, open shift
    and round; at sites where they supervise, reports to review, open alarms and missed rounds),
    then one card per site with its work queue. Superusers see every site."""
    sites = sites_for(request.user, ANY_ROLE).annotate(
        zone_count=Count("zones", filter=Q(zones__is_active=True))
    )
    roles_by_site: dict[int, list[str]] = {}
    for site_id, role in Membership.objects.filter(user=request.user, is_active=True).values_list(
        "site_id", "role"
    ):
        roles_by_site.setdefault(site_id, []).append(role)
    sites = list(sites)
    queues = work_queues.site_queues(request.user, sites)
    mine = work_queues.guard_queue(request.user)
    sections = []
    for site in sites:
        roles = sorted(roles_by_site.get(site.pk, []))
        if request.user.is_superuser and not roles:
            roles = ["administrator"]
        sections.append(
            {
                "site": site,
                "roles": roles,
                "can_audit": request.user.is_superuser or bool(set(roles) & AUDIT_ROLES),
                "queue": queues.get(site.pk),
                "open_shift": mine.open_shifts.get(site.pk),
                "open_run": mine.open_runs.get(site.pk),
            }
        )
    return render(
        request,
        "facility_log/home/home.html",
        {
            "sections": sections,
            "now": timezone.now(),
            "mine": mine,
            "across": _across(queues) if len(queues) > 1 else None,
        },
    )


def _across(queues: dict) -> dict:
    """The supervision counts summed over the user's sites (managers of several)."""
    total = work_queues.SiteQueue()
    for queue in queues.values():
        total.to_review += queue.to_review
        total.alarms_new += queue.alarms_new
        total.alarms_acknowledged += queue.alarms_acknowledged
        total.missed_rounds_today += queue.missed_rounds_today
        total.exceptions_recent += queue.exceptions_recent
        total.to_sign_off += queue.to_sign_off
        total.keys_overdue += queue.keys_overdue
    # The priority counts are per site (each site may rank types its own way).
    return {"queue": total, "sites": len(queues)}
