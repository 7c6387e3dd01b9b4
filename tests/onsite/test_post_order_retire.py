"""Retiring a post order: supervisors and managers, with a reason, once; a retired order is
not asked for at a shift start, not on the tablet, not edited, and keeps its history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from facility_log.services import post_orders
from facility_log.services.tablet import tablet_bundle
from tests.post_orders_helpers import current_version_ids, edit, start_acknowledging, write

pytestmark = pytest.mark.django_db


def test_a_retired_order_is_no_longer_asked_for_nor_on_the_tablet(personas):
    gate, dock = write(personas, title="Gate"), write(personas, title="Dock")
    post_orders.retire_post_order(gate, personas.supervisor_a, reason="gate walled up")
    assert [v.title for v in post_orders.unacknowledged(personas.site_a, personas.guard_a)] == [
        "Dock"
    ]
    (site,) = tablet_bundle(personas.guard_a)["sites"]
    assert [o["title"] for o in site["post_orders"]] == ["Dock"]
    shift = start_acknowledging(personas)
    assert [a.version.title for a in shift.post_order_acks.all()] == ["Dock"]
    assert current_version_ids(personas.site_a) == [dock.versions.get().pk]


def test_retiring_needs_a_reason_a_supervisor_and_happens_once(personas):
    order = write(personas)
    with pytest.raises(PermissionDenied):
        post_orders.retire_post_order(order, personas.guard_a, reason="x")
    with pytest.raises(ValidationError) as error:
        post_orders.retire_post_order(order, personas.manager_ab, reason="  ")
    assert "reason" in error.value.message_dict
    retired = post_orders.retire_post_order(order, personas.manager_ab, reason="superseded")
    assert (retired.retired_by, retired.retire_reason) == (personas.manager_ab, "superseded")
    latest = retired.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        personas.manager_ab,
        "superseded",
    )
    with pytest.raises(ValidationError) as again:
        post_orders.retire_post_order(order, personas.manager_ab, reason="again")
    assert again.value.error_dict["state"][0].code == post_orders.RETIRED
    with pytest.raises(ValidationError) as edited:
        edit(retired, personas.manager_ab, body="new text")
    assert "state" in edited.value.message_dict
    retired.refresh_from_db()
    assert retired.version == 1 and retired.history.count() == 2
