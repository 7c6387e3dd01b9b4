"""The visitor day sheet as services: signing in and out with history, the evacuation list
(exactly those signed in and not out) as a PDF, and the purge of a sheet after the site's
period with the ledger still intact."""

import shutil
import subprocess
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from facility_log.models import LedgerEntry, PurgeCount, Visitor
from facility_log.services import visitors
from facility_log.services.retention import set_retention_period
from facility_log.services.verify import verify_audit
from tests.retention_helpers import ago, clock_at

pytestmark = pytest.mark.django_db


def _sign_in(p, name: str, *, site=None, actor=None, **extra) -> Visitor:
    return visitors.sign_in_visitor(
        site or p.site_a, actor or p.guard_a, name=name, host="Hal Host", **extra
    )


def test_a_sign_in_lands_on_todays_sheet_of_the_site_with_who_and_why_in_history(personas):
    visitor = _sign_in(personas, "Vera Visitor", company="Acme", badge_number="B-7")
    assert visitor.day == visitors.local_today(personas.site_a)
    assert list(visitors.day_sheet(personas.site_a, visitor.day)) == [visitor]
    row = visitor.history.get()
    assert (row.history_user, row.history_change_reason) == (personas.guard_a, "visitor signed in")


def test_the_day_is_the_sites_local_day(personas, settings):
    site = personas.site_b
    # Far east of UTC: at 20:00 UTC it is already tomorrow there.
    site.time_zone = "Pacific/Kiritimati"  # UTC+14
    evening = timezone.now().replace(hour=20, minute=0, second=0, microsecond=0)
    with clock_at(evening):
        visitor = _sign_in(personas, "Late Larry", site=site, actor=personas.manager_ab)
    assert visitor.day == (evening + timedelta(hours=14)).date()
    assert visitor.day != evening.date()


def test_sign_out_is_recorded_once_and_a_second_one_is_refused(personas):
    visitor = _sign_in(personas, "Vera Visitor")
    out = visitors.sign_out_visitor(visitor, personas.supervisor_a)
    assert out.signed_out_by == personas.supervisor_a and out.signed_out_at is not None
    assert [h.history_change_reason for h in out.history.order_by("history_id")] == [
        "visitor signed in",
        "visitor signed out",
    ]
    with pytest.raises(visitors.AlreadySignedOut):
        visitors.sign_out_visitor(visitor, personas.guard_a)


def test_only_guards_supervisors_and_managers_of_the_site_sign_visitors(personas):
    for actor in (personas.auditor_a, personas.outsider_c):
        with pytest.raises(PermissionDenied):
            _sign_in(personas, "Nope", actor=actor)
    visitor = _sign_in(personas, "Vera Visitor")
    with pytest.raises(PermissionDenied):
        visitors.sign_out_visitor(visitor, personas.outsider_c)
    assert Visitor.objects.count() == 1 and visitor.history.count() == 1


def test_bad_input_names_the_field_and_writes_nothing(personas):
    with pytest.raises(ValidationError) as refused:
        visitors.sign_in_visitor(personas.site_a, personas.guard_a, name="  ", host="")
    assert set(refused.value.message_dict) == {"name", "host"}
    with pytest.raises(ValidationError) as refused:
        _sign_in(personas, "Vera", badge_number="x" * 51)
    assert set(refused.value.message_dict) == {"badge_number"}
    assert not Visitor.objects.exists()


def test_the_evacuation_list_is_exactly_those_signed_in_and_not_out(personas):
    with clock_at(ago(1)):
        forgot = _sign_in(personas, "Yesterday Yvonne")  # never signed out: still on site
        gone_yesterday = _sign_in(personas, "Gone Gary")
        visitors.sign_out_visitor(gone_yesterday, personas.guard_a)
    here = _sign_in(personas, "Here Hanna")
    left = _sign_in(personas, "Left Liam")
    visitors.sign_out_visitor(left, personas.guard_a)
    _sign_in(personas, "Bravo Bob", site=personas.site_b, actor=personas.manager_ab)
    assert set(visitors.on_site_now(personas.site_a)) == {forgot, here}


@pytest.mark.skipif(not shutil.which("qpdf"), reason="qpdf is not installed")
def test_the_evacuation_pdf_is_a_valid_pdf_of_the_people_on_site(personas, tmp_path):
    _sign_in(personas, "Here Hanna")
    pdf = tmp_path / "evacuation.pdf"
    pdf.write_bytes(visitors.evacuation_pdf(personas.site_a))
    check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Here Hanna" in text and "1 visitor on site" in text


def test_the_sheet_of_31_days_ago_is_purged_and_the_ledger_still_verifies(personas):
    with clock_at(ago(31)):
        old = _sign_in(personas, "Old Olga")
        visitors.sign_out_visitor(old, personas.guard_a)
        _sign_in(personas, "Old Otto")  # never signed out: goes with its sheet all the same
    with clock_at(ago(29.5)):
        kept = _sign_in(personas, "Recent Rita")
    today = _sign_in(personas, "Today Tom")
    old_history = list(Visitor.history.filter(id=old.pk).values_list("history_id", flat=True))

    out = StringIO()
    call_command("purge_expired", "--apply", stdout=out)

    assert set(Visitor.objects.all()) == {kept, today}
    assert not Visitor.history.filter(day=old.day).exists()
    assert "ALPHA visitors (kept 30 days" in out.getvalue()
    count = PurgeCount.objects.get(site=personas.site_a, kind="visitors", run__applied=True)
    assert (count.records, count.rows) == (2, 5)  # 2 visitors, 3 history rows
    tombstones = LedgerEntry.objects.filter(kind="tombstone", object_pk__in=map(str, old_history))
    assert tombstones.count() == len(old_history)
    result = verify_audit()
    assert result.intact, [str(problem) for problem in result.problems]


def test_a_site_keeps_its_sheets_for_its_own_period(personas):
    set_retention_period(
        personas.site_a, personas.manager_ab, kind="visitors", days=60, reason="contract"
    )
    with clock_at(ago(45)):
        kept = _sign_in(personas, "Forty-five Fay")
    with clock_at(ago(45)):
        gone = _sign_in(personas, "Bravo Ben", site=personas.site_b, actor=personas.manager_ab)
    call_command("purge_expired", "--apply", stdout=StringIO())
    assert Visitor.objects.filter(pk=kept.pk).exists()
    assert not Visitor.objects.filter(pk=gone.pk).exists()
    assert verify_audit().intact
