from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from facility_log.models import Membership
from facility_log.scoping import ANY_ROLE, AUDIT_ROLES, sites_for


def home(request):
    """The start page: one card per site the user holds a role at, with what each role does
    there. Superusers see every site."""
    sites = sites_for(request.user, ANY_ROLE).annotate(
        zone_count=Count("zones", filter=Q(zones__is_active=True))
    )
    roles_by_site: dict[int, list[str]] = {}
    for site_id, role in Membership.objects.filter(user=request.user, is_active=True).values_list(
        "site_id", "role"
    ):
        roles_by_site.setdefault(site_id, []).append(role)
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
            }
        )
    return render(
        request, "facility_log/home/home.html", {"sections": sections, "now": timezone.now()}
    )
