"""Found items of site A, built through the services (tests/onsite, tests/views, cross_site)."""

from datetime import timedelta

from django.utils import timezone

from facility_log.services import lost_found
from tests.incident_factories import photo


def found_at_a(p, *, days_ago=1, with_photo=False, **extra):
    data = lost_found.FoundItemInput(
        description=extra.pop("description", "Black umbrella with a wooden handle"),
        found_at=timezone.now() - timedelta(days=days_ago),
        found_by="Cleaner on the night shift",
        storage_location="Lost property cupboard, gatehouse",
        zone=p.zone_a,
        photo=photo() if with_photo else None,
        **extra,
    )
    return lost_found.record_found_item(p.site_a, p.guard_a, data, reason="found on the round")


def site_a_found_item(p):
    """One site-A item with a photo, made once per test."""
    if getattr(p, "_found_item", None) is None:
        p._found_item = found_at_a(p, with_photo=True, description="ALPHA-UMBRELLA-SECRET")
    return p._found_item
