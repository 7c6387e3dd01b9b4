"""seed_demo's on-site records at HQ (post order, duress procedure, lone-worker rule, keys, a
found item, today's visitor), once, through the services, with the ledger intact."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from facility_log.models import (
    EventType,
    FoundItem,
    Key,
    KeyIssue,
    PostOrder,
    Procedure,
    Site,
    Visitor,
)
from facility_log.services import lone_worker, post_orders, visitors
from facility_log.services.verify import verify_audit


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_adds_hq_on_site_records_once():
    call_command("seed_demo", stdout=StringIO())
    second = StringIO()
    call_command("seed_demo", stdout=second)
    hq = Site.objects.get(code="HQ")
    assert "on site: already there" in second.getvalue()
    assert PostOrder.objects.filter(site=hq).count() == 1
    assert Procedure.objects.get(site=hq).alarm_type == EventType.DURESS
    assert lone_worker.policy_for(hq).enabled is False
    assert Key.objects.filter(site=hq).count() == 2
    assert KeyIssue.objects.filter(site=hq, returned_at__isnull=True).count() == 1
    assert FoundItem.objects.filter(site=hq).count() == 1
    assert list(visitors.on_site_now(hq).values_list("name", flat=True)) == ["Demo Visitor"]
    assert Visitor.objects.count() == 1
    # The demo guard is asked to read the new post order at the next shift start.
    guard = hq.memberships.get(user__username="guard").user
    assert [v.post_order.title for v in post_orders.unacknowledged(hq, guard)] == [
        "Gatehouse at night"
    ]
    assert verify_audit().intact
