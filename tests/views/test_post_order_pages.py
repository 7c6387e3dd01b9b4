"""Post order pages and the desk's shift start: every member of the site reads, supervisors
and managers write (each edit a new version with a reason), files only to the site's members,
and a guard starting a shift at the desk must tick "I have read these" for what changed."""

import pytest
from django.urls import reverse

from facility_log.models import PostOrder, PostOrderAck, Shift
from tests.post_orders_helpers import PDF_BYTES, edit, pdf, start_acknowledging, write

pytestmark = pytest.mark.django_db
READERS = ("guard_a", "supervisor_a", "manager_ab", "auditor_a")


def _list_url(p):
    return reverse("site-post-orders", kwargs={"code": p.site_a.code})


def _start_url(p):
    return reverse("shift-start", kwargs={"code": p.site_a.code})


def test_every_member_reads_the_post_orders_with_safe_markup(personas, client_for):
    write(personas, title="Gate", body="**Lock** the gate <script>x()</script>\n\n- dock 2")
    for name in READERS:
        page = client_for(name).get(_list_url(personas))
        assert page.status_code == 200, name
        html = page.content.decode()
        assert "<strong>Lock</strong>" in html and "<li>dock 2</li>" in html
        assert "<script>x()" not in html and "&lt;script&gt;x()" in html
        writes = reverse("post-order-add", kwargs={"code": personas.site_a.code}) in html
        assert writes == (name in ("supervisor_a", "manager_ab")), name
    assert client_for("outsider_c").get(_list_url(personas)).status_code == 404
    shifts_page = client_for("guard_a").get(f"/sites/{personas.site_a.code}/shifts/")
    assert _list_url(personas) in shifts_page.content.decode()


def test_the_list_queries_do_not_grow_with_post_orders(
    personas, client_for, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("guard_a")
    write(personas, title="One", attachments=[pdf()])
    with CaptureQueriesContext(connection) as few:
        client.get(_list_url(personas))
    for n in range(4):
        write(personas, title=f"More {n}", zone=personas.zone_a, attachments=[pdf(f"{n}.pdf")])
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(_list_url(personas)).status_code == 200


def test_guards_and_auditors_may_not_write(personas, client_for):
    order = write(personas)
    add = reverse("post-order-add", kwargs={"code": personas.site_a.code})
    change = reverse("post-order-edit", kwargs={"pk": order.pk})
    for name in ("guard_a", "auditor_a"):
        client = client_for(name)
        assert client.get(add).status_code == 403
        body = {"title": "x", "body": "y", "reason": "z", "version": 1}
        assert client.post(add, body).status_code == 403
        assert client.post(change, body).status_code == 403
    assert PostOrder.objects.get().version == 1 and PostOrder.objects.count() == 1
    assert client_for("outsider_c").get(change).status_code == 404


def test_a_supervisor_writes_one_with_a_file_and_a_reason(personas, client_for):
    client = client_for("supervisor_a")
    add = reverse("post-order-add", kwargs={"code": personas.site_a.code})
    refused = client.post(add, {"title": "Dock", "body": "Only dock 2", "reason": ""})
    assert refused.status_code == 200 and not PostOrder.objects.exists()
    assert "This field is required" in refused.content.decode()
    answer = client.post(
        add,
        {
            "title": "Dock",
            "body": "Only dock 2",
            "zone": personas.zone_a.pk,
            "reason": "new dock",
            "attachment": pdf(),
        },
    )
    order = PostOrder.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/post-orders/{order.pk}/"
    assert (order.zone, order.attachments.count()) == (personas.zone_a, 1)


def test_a_file_that_is_not_what_it_says_is_refused_on_the_page(personas, client_for):
    add = reverse("post-order-add", kwargs={"code": personas.site_a.code})
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("plan.pdf", b"<svg onload=alert(1)></svg>")
    body = {"title": "Dock", "body": "b", "reason": "r", "attachment": fake}
    answer = client_for("manager_ab").post(add, body)
    assert answer.status_code == 200 and not PostOrder.objects.exists()
    assert "Attach a PDF or a photo" in answer.content.decode()


def test_editing_on_the_page_makes_a_version_and_shows_a_stale_edit(personas, client_for):
    order = write(personas, title="Gate")
    url = reverse("post-order-edit", kwargs={"pk": order.pk})
    client = client_for("manager_ab")
    form = client.get(url).content.decode()
    assert 'name="version" value="1"' in form
    body = {"title": "Gate", "body": "Close at 23:00", "reason": "summer", "version": 1}
    assert client.post(url, body).status_code == 302
    stale = client_for("supervisor_a").post(url, {**body, "body": "Close at 20:00"})
    assert stale.status_code == 200 and "version 2 now" in stale.content.decode()
    order.refresh_from_db()
    assert (order.version, order.body) == (2, "Close at 23:00")
    detail = client_for("guard_a").get(reverse("post-order", kwargs={"pk": order.pk}))
    html = detail.content.decode()
    assert "Close at 23:00" in html and "22:00" in html and "summer" in html


def test_files_go_only_to_the_site_members_as_downloads(personas, client_for):
    order = write(personas, attachments=[pdf()])
    url = reverse("post-order-file", kwargs={"pk": order.attachments.get().pk})
    for name in READERS:
        answer = client_for(name).get(url)
        assert answer.status_code == 200, name
        assert b"".join(answer.streaming_content) == PDF_BYTES
        assert answer["Content-Disposition"].startswith("attachment")
        assert answer["X-Content-Type-Options"] == "nosniff"
    assert client_for("outsider_c").get(url).status_code == 404


def test_the_desk_start_asks_for_the_changed_post_orders(personas, client_for):
    """Done when (page): refused without the tick, naming the order; started with it; the
    activity report shows it; not asked again until the next version."""
    order = write(personas, title="Gate procedure")
    client = client_for("guard_a")
    form = client.get(_start_url(personas))
    html = form.content.decode()
    assert "Gate procedure" in html and "I have read these post orders" in html
    fields = form.context["form"].initial
    body = {"client_uuid": fields["client_uuid"], "versions": fields["versions"]}

    refused = client.post(_start_url(personas), body)
    assert refused.status_code == 200 and not Shift.objects.exists()
    assert "Read and acknowledge the post orders" in refused.content.decode()
    assert "Gate procedure" in refused.content.decode()

    started = client.post(_start_url(personas), {**body, "read": "on"})
    shift = Shift.objects.get()
    assert started["Location"] == reverse("shift-report", kwargs={"pk": shift.pk})
    assert PostOrderAck.objects.get().shift == shift
    report = client.get(started["Location"]).content.decode()
    assert "Post orders acknowledged at the start" in report
    assert "“Gate procedure”, version 1: read and acknowledged" in report
    pdf_answer = client.get(reverse("shift-report-pdf", kwargs={"pk": shift.pk}))
    assert pdf_answer.status_code == 200

    from facility_log.services import shifts

    shifts.end_shift(shift, personas.guard_a)
    again = client.get(_start_url(personas)).content.decode()
    assert "No post order changed since you last acknowledged them" in again
    edit(order, personas.manager_ab, body="Gate closes at 21:00.")
    assert "Gate closes at 21:00." in client.get(_start_url(personas)).content.decode()


def test_the_desk_start_refuses_the_outsider_and_the_auditor(personas, client_for):
    assert client_for("outsider_c").post(_start_url(personas)).status_code == 404
    assert client_for("auditor_a").get(_start_url(personas)).status_code == 403
    assert not Shift.objects.exists()


def test_an_open_shift_goes_to_its_report(personas, client_for):
    shift = start_acknowledging(personas)
    answer = client_for("guard_a").get(_start_url(personas))
    assert answer["Location"] == reverse("shift-report", kwargs={"pk": shift.pk})


def test_the_tablet_page_carries_the_post_orders_offline(personas, client_for):
    write(personas, title="Tablet gate", body="**Lock** it")
    html = client_for("guard_a").get(reverse("tablet")).content.decode()
    assert 'id="post-orders-tablet"' in html and "js/tablet/post_orders.js" in html
    assert "Tablet gate" in html and "\\u003Cstrong\\u003ELock" in html
    sw = client_for("guard_a").get(reverse("tablet-sw")).content.decode()
    assert "js/tablet/post_orders.js" in sw
