"""Lost and found's rules: an item is recorded with where it was found and where it is kept
(a photo only if its content is a photo), handed over once to its owner with the owner's
confirmation, or disposed of with a reason only after the retention period."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from facility_log.models import FoundItem, FoundItemState
from facility_log.services import lost_found
from tests.incident_factories import submitted
from tests.onsite.lost_found_helpers import found_at_a

pytestmark = pytest.mark.django_db


def test_a_found_item_is_recorded_with_its_photo_and_history(personas):
    item = found_at_a(personas, with_photo=True)
    assert item.state == FoundItemState.STORED
    assert item.photo_content_type == "image/png" and len(item.photo_sha256) == 64
    assert item.photo.name.startswith("lost_found/") and "photo" not in item.photo.name
    latest = item.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        personas.guard_a,
        "found on the round",
    )


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_stored(personas):
    fake = SimpleUploadedFile("umbrella.png", b"%PDF-1.4 not a photo", content_type="image/png")
    with pytest.raises(ValidationError) as refused:
        lost_found.record_found_item(
            personas.site_a,
            personas.guard_a,
            lost_found.FoundItemInput(
                description="x",
                found_at=timezone.now(),
                found_by="me",
                storage_location="desk",
                photo=fake,
            ),
            reason="x",
        )
    assert "photo" in refused.value.message_dict
    assert not FoundItem.objects.exists()


def test_an_item_can_link_to_an_incident_of_its_own_site_only(personas):
    incident = submitted(personas)
    item = found_at_a(personas, incident=incident)
    assert list(incident.found_items.all()) == [item]
    with pytest.raises(ValidationError) as refused:
        lost_found.record_found_item(
            personas.site_b,
            personas.manager_ab,
            lost_found.FoundItemInput(
                description="x",
                found_at=timezone.now(),
                found_by="me",
                storage_location="desk",
                incident=incident,
            ),
            reason="x",
        )
    assert "incident" in refused.value.message_dict


def test_hand_over_needs_the_owner_name_and_confirmation_and_happens_once(personas):
    item = found_at_a(personas)
    with pytest.raises(ValidationError) as refused:
        lost_found.hand_over(
            item, personas.guard_a, owner_name="Ann Owner", owner_confirms=False, reason="x"
        )
    assert "owner_confirms" in refused.value.message_dict
    lost_found.hand_over(
        item, personas.guard_a, owner_name=" Ann Owner ", owner_confirms=True, reason="collected"
    )
    item.refresh_from_db()
    assert (item.state, item.owner_name, item.owner_confirmed, item.left_by) == (
        FoundItemState.HANDED_OVER,
        "Ann Owner",
        True,
        personas.guard_a,
    )
    with pytest.raises(ValidationError, match="no longer stored"):
        lost_found.hand_over(
            item, personas.guard_a, owner_name="Bob", owner_confirms=True, reason="x"
        )


def test_disposal_only_after_the_retention_period_and_by_supervisors(personas, settings):
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "LOST_PROPERTY_DAYS": 30}
    young = found_at_a(personas, days_ago=10)
    old = found_at_a(personas, days_ago=31)
    assert list(lost_found.due_for_disposal(personas.site_a)) == [old]
    with pytest.raises(ValidationError, match="cannot be disposed of before"):
        lost_found.dispose(young, personas.supervisor_a, reason="given to charity")
    with pytest.raises(PermissionDenied):
        lost_found.dispose(old, personas.guard_a, reason="given to charity")
    lost_found.dispose(old, personas.supervisor_a, reason="given to charity")
    old.refresh_from_db()
    assert (old.state, old.disposal_reason) == (FoundItemState.DISPOSED, "given to charity")
    assert old.history.latest().history_change_reason == "given to charity"
    assert not lost_found.due_for_disposal(personas.site_a).exists()


def test_the_outsider_records_nothing_at_site_a(personas):
    with pytest.raises(PermissionDenied):
        lost_found.record_found_item(
            personas.site_a,
            personas.outsider_c,
            lost_found.FoundItemInput(
                description="x",
                found_at=timezone.now() - timedelta(hours=1),
                found_by="me",
                storage_location="desk",
            ),
            reason="x",
        )
