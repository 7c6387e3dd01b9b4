"""The disclosure and view logs: required facts, append-only, chained, scoped."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from facility_log.models import Disclosure, LedgerEntry, RecordView
from facility_log.models.base import HistoryBypassError
from facility_log.services.disclosures import disclosures_of, record_disclosure
from facility_log.services.verify import verify_audit
from facility_log.services.view_log import record_view


@pytest.mark.django_db
def test_a_view_is_logged_and_chained(personas):
    view = record_view(personas.guard_a, personas.zone_a, site=personas.site_a, label="Zone A")
    entry = LedgerEntry.objects.order_by("-seq").first()
    assert (entry.kind, entry.object_pk, entry.actor_name) == ("record", str(view.pk), "guard_a")
    assert verify_audit().intact


@pytest.mark.django_db
def test_a_disclosure_needs_recipient_and_reason_and_writes_nothing_without(personas):
    with pytest.raises(ValidationError) as error:
        record_disclosure(
            personas.manager_ab,
            personas.zone_a,
            site=personas.site_a,
            label="Z",
            recipient=" ",
            reason="",
        )
    assert set(error.value.message_dict) == {"recipient", "reason"}
    assert Disclosure.objects.count() == 0


@pytest.mark.django_db
def test_disclosures_cannot_be_changed_or_deleted(personas):
    disclosure = record_disclosure(
        personas.manager_ab,
        personas.zone_a,
        site=personas.site_a,
        label="Z",
        recipient="City Police",
        case_number="2026/123",
        reason="burglary investigation",
        redactions=["contact details"],
    )
    assert list(disclosures_of(personas.zone_a)) == [disclosure]
    disclosure.reason = "rewritten"
    with pytest.raises(HistoryBypassError):
        disclosure.save()
    with pytest.raises(HistoryBypassError):
        Disclosure.objects.all().delete()
    with pytest.raises(HistoryBypassError):
        RecordView.objects.update(viewer_name="x")


@pytest.mark.django_db
def test_audit_page_lists_only_the_auditors_sites(personas, client_for):
    record_disclosure(
        personas.manager_ab,
        personas.zone_a,
        site=personas.site_a,
        label="ALPHA-DISCLOSED",
        recipient="City Police",
        reason="case",
    )
    record_disclosure(
        personas.admin,
        personas.zone_c,
        site=personas.site_c,
        label="CHARLIE-DISCLOSED",
        recipient="Boston PD",
        reason="case",
    )
    html = client_for("auditor_a").get(reverse("audit-overview")).content.decode()
    assert "ALPHA-DISCLOSED" in html
    assert "CHARLIE-DISCLOSED" not in html
