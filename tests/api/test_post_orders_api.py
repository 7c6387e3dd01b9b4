"""Post orders over the API: members of the site read them, supervisors and managers write
them (an edit by `version`, 409 when stale), the outsider gets nothing, and a shift start
carries the acknowledgement (`post_order_versions`), refused with 422 without it."""

import uuid

import pytest
from django.utils import timezone

from facility_log.models import PostOrder, PostOrderAck, Shift
from tests.post_orders_helpers import current_version_ids, edit, pdf, write

pytestmark = pytest.mark.django_db
URL = "/api/v1/post-orders/"
SHIFTS = "/api/v1/shifts/"


def _start(client, **extra):
    body = {"site": "ALPHA", "client_uuid": str(uuid.uuid4()), **extra}
    return client.post(SHIFTS, body, format="json")


def test_members_list_and_read_their_sites_post_orders(personas, api_client_for):
    order = write(personas, title="Gate", body="**Lock**", attachments=[pdf()])
    write(personas, title="Bravo rule", site=personas.site_b)
    for name in ("guard_a", "supervisor_a", "auditor_a"):
        rows = api_client_for(name).get(URL).json()["results"]
        assert [r["title"] for r in rows] == ["Gate"], name
    (row,) = api_client_for("guard_a").get(URL, {"site__code": "ALPHA"}).json()["results"]
    assert row["body_html"] == "<p><strong>Lock</strong></p>"
    assert row["version_id"] == current_version_ids(personas.site_a)[0]
    assert row["attachments"][0]["url"] == f"/post-orders/files/{order.attachments.get().pk}/"
    titles = [r["title"] for r in api_client_for("manager_ab").get(URL).json()["results"]]
    assert titles == ["Gate", "Bravo rule"]
    assert api_client_for("guard_a").get(f"{URL}{order.pk}/").json()["version"] == 1


def test_the_outsider_gets_nothing(personas, api_client_for):
    order = write(personas)
    client = api_client_for("outsider_c")
    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{order.pk}/").status_code == 404
    change = {"version": 1, "body": "hijacked", "reason": "x"}
    assert client.patch(f"{URL}{order.pk}/", change, format="json").status_code == 404
    answer = client.post(
        URL, {"site": "ALPHA", "title": "x", "body": "y", "reason": "z"}, format="json"
    )
    assert answer.status_code == 422 and "site" in answer.json()
    assert PostOrder.objects.get().body != "hijacked" and PostOrder.objects.count() == 1


def test_the_list_queries_do_not_grow_with_rows(
    personas, api_client_for, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for("guard_a")
    write(personas, title="One", attachments=[pdf()])
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(4):
        write(personas, title=f"More {n}", attachments=[pdf(f"{n}.pdf")])
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(URL).json()["results"]) == 5


def test_supervisors_and_managers_create_guards_may_not(personas, api_client_for):
    body = {"site": "ALPHA", "zone": personas.zone_a.pk, "title": "Dock", "body": "- two"}
    assert (
        api_client_for("guard_a").post(URL, {**body, "reason": "r"}, format="json").status_code
        == 403
    )
    assert api_client_for("manager_ab").post(URL, body, format="json").status_code == 400
    unknown = api_client_for("manager_ab").post(URL, {**body, "reason": "r", "x": 1}, format="json")
    assert unknown.status_code == 400 and "x" in unknown.json()
    zone_b = {**body, "zone": personas.zone_b.pk, "reason": "r"}
    assert api_client_for("supervisor_a").post(URL, zone_b, format="json").status_code == 422
    assert not PostOrder.objects.exists()
    made = api_client_for("supervisor_a").post(URL, {**body, "reason": "new"}, format="json")
    assert made.status_code == 201, made.content
    assert (made.json()["version"], made.json()["zone_name"]) == (1, personas.zone_a.name)


def test_an_edit_names_its_version_and_a_stale_one_is_409(personas, api_client_for):
    order = write(personas)
    client = api_client_for("manager_ab")
    url = f"{URL}{order.pk}/"
    done = client.patch(url, {"version": 1, "body": "New text", "reason": "why"}, format="json")
    assert done.status_code == 200 and done.json()["version"] == 2
    stale = client.patch(url, {"version": 1, "body": "Other", "reason": "why"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and stale.json()["current"]["body"] == "New text"
    no_reason = client.patch(url, {"version": 2, "body": "x"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    refused = api_client_for("guard_a").patch(
        url, {"version": 2, "body": "x", "reason": "y"}, format="json"
    )
    assert refused.status_code == 403
    assert PostOrder.objects.get().body == "New text"


def test_a_shift_start_carries_the_acknowledgement(personas, api_client_for):
    """Done when (API): 422 naming the unacknowledged order; 201 with it; not asked again
    until the next version; the shift's activity report shows it."""
    order = write(personas, title="Gate procedure")
    client = api_client_for("guard_a")
    refused = _start(client)
    assert refused.status_code == 422
    assert "Gate procedure" in refused.json()["post_orders"][0]
    assert not Shift.objects.exists()

    versions = [r["version_id"] for r in client.get(URL).json()["results"]]
    started = _start(client, post_order_versions=versions)
    assert started.status_code == 201, started.content
    shift_id = started.json()["id"]
    assert PostOrderAck.objects.get().shift_id == shift_id
    report = client.get(f"{SHIFTS}{shift_id}/report/").json()
    (ack,) = report["shift"]["post_order_acks"]
    assert (ack["post_order"], ack["title"], ack["version"]) == (order.pk, "Gate procedure", 1)

    assert client.post(f"{SHIFTS}{shift_id}/end/", {}, format="json").status_code == 200
    again = _start(client)
    assert again.status_code == 201  # nothing changed since
    client.post(f"{SHIFTS}{again.json()['id']}/end/", {}, format="json")

    edit(order, personas.manager_ab, body="Gate closes at 21:00.")
    stale = _start(client, post_order_versions=versions)
    assert stale.status_code == 422 and "version 2" in stale.json()["post_orders"][0]


def test_the_shift_report_api_is_unchanged_for_a_start_sent_again(personas, api_client_for):
    """A retried start (same client_uuid) is the stored shift, not asked again."""
    write(personas)
    client = api_client_for("guard_a")
    body = {
        "site": "ALPHA",
        "client_uuid": str(uuid.uuid4()),
        "started_at": timezone.now().isoformat(),
        "post_order_versions": current_version_ids(personas.site_a),
    }
    assert client.post(SHIFTS, body, format="json").status_code == 201
    assert client.post(SHIFTS, body, format="json").status_code == 200
    assert PostOrderAck.objects.count() == 1
