"""One record of each kind, built through the real services, for the schema fuzz and the
generated-client tests: answers then carry real rows (a blank reason, a null zone) for the
schema checks to look at."""

from datetime import timedelta

from django.utils import timezone

from facility_log.services import incidents as incident_svc
from tests.access.helpers import door, ingest, row, site_a_alarm
from tests.incident_factories import draft, seed_site_a_incident
from tests.onsite.keys_helpers import site_a_key_issue
from tests.onsite.lost_found_helpers import found_at_a, site_a_found_item
from tests.rounds_helpers import site_a_rounds
from tests.shifts_helpers import site_a_shifts


def build_fuzz_world(p) -> None:
    if getattr(p, "_fuzz_world", False):
        return
    seed_site_a_incident(p)
    draft(p, zone=None, category=None, narrative="", occurred_from=timezone.now())
    incident_svc.ensure_default_categories(None)
    site_a_rounds(p)
    site_a_shifts(p)
    door(p.site_a, p.zone_a)
    now = timezone.now()
    ingest(
        p.site_a,
        [
            row(line=2, external_id="plain-1", occurred_at=(now - timedelta(hours=1)).isoformat()),
            row(
                line=3,
                external_id="denied-1",
                event_type="denied",
                reason="expired",
                direction="in",
                cardholder="Ana Ruiz",
                credential="00012345",
            ),
        ],
    )
    site_a_alarm(p)
    site_a_key_issue(p)
    site_a_found_item(p)
    found_at_a(p, days_ago=400)  # no photo, due for disposal
    p._fuzz_world = True
