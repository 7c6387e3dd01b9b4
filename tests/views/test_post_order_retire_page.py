"""The retire page: supervisors and managers confirm with a reason, then the order leaves the
list (shown under "Retired") and the desk's shift start; guards and the outsider cannot."""

import pytest
from django.urls import reverse

from facility_log.models import PostOrder
from tests.post_orders_helpers import write

pytestmark = pytest.mark.django_db


def test_confirm_then_retire_with_a_reason(personas, client_for):
    order = write(personas, title="Old gate rule")
    url = reverse("post-order-retire", kwargs={"pk": order.pk})
    client = client_for("supervisor_a")
    detail = client.get(reverse("post-order", kwargs={"pk": order.pk})).content.decode()
    assert url in detail
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Confirm: retire it" in confirm.content.decode()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and PostOrder.objects.get().retired_at is None
    done = client.post(url, {"reason": "gate walled up"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert (order.retired_by, order.retire_reason) == (personas.supervisor_a, "gate walled up")
    listing = client.get(reverse("site-post-orders", kwargs={"code": "ALPHA"})).content.decode()
    assert "Retired post orders" in listing and "Close the gate" not in listing
    detail = client.get(reverse("post-order", kwargs={"pk": order.pk})).content.decode()
    assert "gate walled up" in detail and url not in detail
    start = client_for("guard_a").get(reverse("shift-start", kwargs={"code": "ALPHA"}))
    assert "Old gate rule" not in start.content.decode()
    edit_page = client.get(reverse("post-order-edit", kwargs={"pk": order.pk}))
    assert edit_page.status_code == 302


@pytest.mark.parametrize("who, status", [("guard_a", 403), ("outsider_c", 404)])
def test_guards_and_the_outsider_cannot_retire(personas, client_for, who, status):
    order = write(personas)
    url = reverse("post-order-retire", kwargs={"pk": order.pk})
    assert client_for(who).post(url, {"reason": "x"}).status_code == status
    assert PostOrder.objects.get().retired_at is None
