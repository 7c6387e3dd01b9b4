"""Post orders in the services: each edit a new version with its reason, files checked by
content, markup that lets no user HTML through, and the acknowledgement a guard must give at
the start of a shift whenever a post order changed since their last one."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from facility_log.markup import render_markup
from facility_log.models import PostOrder, PostOrderAck, PostOrderAttachment, PostOrderVersion
from facility_log.services import activity_report, post_orders, shifts
from facility_log.services.tablet import tablet_bundle
from tests.post_orders_helpers import edit, pdf, start_acknowledging, write

pytestmark = pytest.mark.django_db


def _start(p, guard=None, **extra):
    return shifts.start_shift(
        p.site_a, guard or p.guard_a, client_uuid=uuid.uuid4(), started_at=timezone.now(), **extra
    )


def test_markup_escapes_everything_and_makes_only_its_own_tags():
    html = render_markup(
        'Intro <script>alert(1)</script> **bold**\nsecond line\n\n- one\n* <b>two</b>\n\nEnd "q"'
    )
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>bold</strong>" in html
    assert "<p>Intro" in html and "<br>second line</p>" in html
    assert "<ul><li>one</li><li>&lt;b&gt;two&lt;/b&gt;</li></ul>" in html
    assert html.endswith("<p>End &quot;q&quot;</p>")


def test_an_edit_is_a_new_version_and_the_old_one_is_kept(personas):
    order = write(personas)
    edited = edit(order, personas.supervisor_a, body="Gate closes at 23:00.", reason="summer")
    assert (edited.version, edited.body) == (2, "Gate closes at 23:00.")
    versions = list(PostOrderVersion.objects.filter(post_order=order).order_by("number"))
    assert [(v.number, v.reason, v.written_by) for v in versions] == [
        (1, "new instructions", personas.manager_ab),
        (2, "summer", personas.supervisor_a),
    ]
    assert "22:00" in versions[0].body
    assert order.history.count() == 2
    assert order.history.first().history_change_reason == "summer"


def test_an_edit_needs_a_reason_and_the_version_read(personas):
    order = write(personas)
    with pytest.raises(ValidationError) as error:
        edit(order, personas.manager_ab, body="new", reason=" ")
    assert "reason" in error.value.message_dict
    edit(order, personas.manager_ab, body="second")
    with pytest.raises(post_orders.StaleVersion):  # `order` still says version 1
        edit(order, personas.supervisor_a, body="third")
    assert PostOrder.objects.get().version == 2 and PostOrderVersion.objects.count() == 2


def test_only_supervisors_and_managers_of_the_site_write(personas):
    for person in (personas.guard_a, personas.auditor_a, personas.outsider_c):
        with pytest.raises(PermissionDenied):
            write(personas, actor=person)
    assert write(personas, actor=personas.supervisor_a).version == 1
    with pytest.raises(PermissionDenied):
        write(personas, site=personas.site_c, actor=personas.manager_ab)


def test_a_zone_of_another_site_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        write(personas, zone=personas.zone_b)
    assert "zone" in error.value.message_dict
    assert write(personas, zone=personas.zone_a).zone == personas.zone_a


def test_files_are_checked_by_content_and_a_refusal_writes_nothing(personas):
    fake = SimpleUploadedFile("plan.pdf", b"<html><script>x</script></html>")
    with pytest.raises(ValidationError) as error:
        write(personas, attachments=[fake])
    assert "attachments" in error.value.message_dict
    assert not PostOrder.objects.exists() and not PostOrderVersion.objects.exists()
    order = write(personas, attachments=[pdf()])
    stored = PostOrderAttachment.objects.get()
    assert (stored.post_order, stored.version.number, stored.content_type) == (
        order,
        1,
        "application/pdf",
    )
    assert stored.file.name.startswith("post-orders/ALPHA/") and "plan" not in stored.file.name
    assert len(stored.sha256) == 64


def test_a_shift_cannot_start_until_changed_post_orders_are_acknowledged(personas):
    """Done when: refused naming the order; started after acknowledging; not asked again
    until the next version; the activity report shows the acknowledgement."""
    order = write(personas, title="Gate procedure")
    with pytest.raises(ValidationError) as error:
        _start(personas)
    assert "Gate procedure" in str(error.value.message_dict["post_orders"])
    assert not personas.guard_a.shifts.exists() and not PostOrderAck.objects.exists()

    version = PostOrderVersion.objects.get()
    shift, created = _start(personas, acknowledged_post_orders=[version.pk])
    assert created
    ack = PostOrderAck.objects.get()
    assert (ack.version, ack.guard, ack.shift) == (version, personas.guard_a, shift)

    report = activity_report.shift_report(shift)
    assert [a.version.title for a in report.block.acks] == ["Gate procedure"]

    shifts.end_shift(shift, personas.guard_a)
    second, _ = _start(personas)  # nothing changed: not asked again
    assert post_orders.unacknowledged(personas.site_a, personas.guard_a) == []
    shifts.end_shift(second, personas.guard_a)

    edit(order, personas.manager_ab, body="Gate closes at 21:00.")
    with pytest.raises(ValidationError) as error:
        _start(personas, acknowledged_post_orders=[version.pk])  # the old version is not enough
    assert "version 2" in str(error.value.message_dict["post_orders"])
    start_acknowledging(personas)
    assert PostOrderAck.objects.filter(guard=personas.guard_a).count() == 2


def test_each_person_acknowledges_for_themselves(personas):
    write(personas)
    start_acknowledging(personas, guard=personas.guard_a)
    with pytest.raises(ValidationError):
        _start(personas, guard=personas.supervisor_a)


def test_a_site_without_post_orders_starts_as_before(personas):
    write(personas, site=personas.site_b)
    shift, created = _start(personas)
    assert created and not shift.post_order_acks.exists()


def test_the_site_day_report_shows_the_acknowledgements(personas):
    write(personas, title="Dock rules")
    shift = start_acknowledging(personas)
    local_day = shift.started_at.astimezone(personas.site_a.tzinfo).date()
    report = activity_report.site_day_report(personas.site_a, local_day)
    assert [[a.version.title for a in b.acks] for b in report.shifts] == [["Dock rules"]]


def test_the_tablet_carries_the_post_orders_and_what_is_still_to_read(personas):
    write(personas, title="Gate", body="**Lock** <b>it</b>")
    (site,) = tablet_bundle(personas.guard_a)["sites"]
    (order,) = site["post_orders"]
    assert (order["title"], order["number"], order["acknowledged"]) == ("Gate", 1, False)
    assert order["body_html"] == "<p><strong>Lock</strong> &lt;b&gt;it&lt;/b&gt;</p>"
    start_acknowledging(personas)
    (site,) = tablet_bundle(personas.guard_a)["sites"]
    assert site["post_orders"][0]["acknowledged"] is True
    assert tablet_bundle(personas.outsider_c)["sites"][0]["post_orders"] == []


def test_the_tablet_data_queries_do_not_grow_with_post_orders(personas, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    write(personas, title="One")
    with CaptureQueriesContext(connection) as few:
        tablet_bundle(personas.guard_a)
    for n in range(5):
        write(personas, title=f"More {n}", zone=personas.zone_a)
    with django_assert_num_queries(len(few.captured_queries)):
        tablet_bundle(personas.guard_a)


def test_acknowledgements_are_purged_with_their_shift_and_the_ledger_holds(personas):
    from django.test import TestCase

    from facility_log.services.accounts import system_actor
    from facility_log.services.retention import purge_expired
    from facility_log.services.verify import verify_audit
    from tests.retention_helpers import ago, clock_at

    write(personas)
    with clock_at(ago(400)):
        old = start_acknowledging(personas)
        shifts.end_shift(old, personas.guard_a, ended_at=old.started_at)
    kept = start_acknowledging(personas, guard=personas.supervisor_a)
    with TestCase.captureOnCommitCallbacks(execute=True):
        purge_expired(system_actor(), apply=True)
    assert list(PostOrderAck.objects.values_list("shift", flat=True)) == [kept.pk]
    assert PostOrderVersion.objects.count() == 1  # the post order itself is not a shift's
    result = verify_audit()
    assert result.intact, [str(p) for p in result.problems]
