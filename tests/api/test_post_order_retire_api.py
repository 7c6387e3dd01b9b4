"""Retiring a post order over the API: 200 with `retired_at`, then 409 naming `state` (also for
an edit of it); guards 403, the outsider 404; a body without a reason is a 400."""

import pytest

from facility_log.models import PostOrder
from tests.post_orders_helpers import write

pytestmark = pytest.mark.django_db
URL = "/api/v1/post-orders/"


def test_retire_then_again_is_409(personas, api_client_for):
    order = write(personas)
    client = api_client_for("manager_ab")
    done = client.post(f"{URL}{order.pk}/retire/", {"reason": "superseded"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["retired_by"] == "manager_ab" and done.json()["retired_at"]
    again = client.post(f"{URL}{order.pk}/retire/", {"reason": "again"}, format="json")
    assert again.status_code == 409 and "retired" in again.json()["state"][0]
    change = {"version": 1, "body": "new", "reason": "x"}
    edited = client.patch(f"{URL}{order.pk}/", change, format="json")
    assert edited.status_code == 409 and "state" in edited.json()
    assert PostOrder.objects.get().retire_reason == "superseded"


def test_a_missing_reason_or_unknown_field_is_a_400(personas, api_client_for):
    order = write(personas)
    client = api_client_for("manager_ab")
    assert client.post(f"{URL}{order.pk}/retire/", {}, format="json").status_code == 400
    extra = {"reason": "x", "retired_at": "2026-01-01T00:00:00Z"}
    assert client.post(f"{URL}{order.pk}/retire/", extra, format="json").status_code == 400
    assert PostOrder.objects.get().retired_at is None


@pytest.mark.parametrize("who, status", [("guard_a", 403), ("outsider_c", 404)])
def test_guards_and_the_outsider_cannot_retire(personas, api_client_for, who, status):
    order = write(personas)
    answer = api_client_for(who).post(f"{URL}{order.pk}/retire/", {"reason": "x"}, format="json")
    assert answer.status_code == status
    assert PostOrder.objects.get().retired_at is None
