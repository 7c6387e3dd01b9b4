"""Lost and found: items found at a site, kept, handed over to their owner or disposed of.

Anyone who works at the site (guards, supervisors, managers) records a found item and hands
one over; the site's supervisors and managers dispose of an item once it has been kept for
the retention period (`FACILITY_LOG["LOST_PROPERTY_DAYS"]`, from the environment variable
`FACILITY_LOG_LOST_PROPERTY_DAYS`, 90 days unless set), with a
reason. Each step is one transaction with a history row naming the actor and the reason.

An owner's name is typed for one handover and stays with that item: owners are not searched
or matched across items (DESIGN.md, no profiles of people).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from facility_log.models import FoundItem, FoundItemState, Incident, Site, Zone
from facility_log.scoping import REPORT_ROLES, REVIEW_ROLES, require_role
from facility_log.services import uploads
from facility_log.services.audit import audited_change

DEFAULT_KEEP_DAYS = 90
# Codes of the refusals a caller may tell apart: the item's state does not allow the step
# (the API answers 409 for these, 422 for any other refusal).
NOT_STORED = "not_stored"
KEPT = "kept"
HAS_PHOTO = "has_photo"
# How far the guard tablet's clock may be from the server's for an item it recorded offline.
DEVICE_AHEAD = timedelta(minutes=10)
DEVICE_BEHIND = timedelta(days=7)


def keep_days() -> int:
    """How long a found item is kept before it may be disposed of."""
    return int(settings.FACILITY_LOG.get("LOST_PROPERTY_DAYS", DEFAULT_KEEP_DAYS))


@dataclass
class FoundItemInput:
    """What the finder's form or a caller gives for a new item."""

    description: str
    found_at: datetime
    found_by: str
    storage_location: str
    zone: Zone | None = None
    incident: Incident | None = None
    photo: File | None = None


def _required(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("This field is required.")})
    return value


def _check_links(site: Site, data: FoundItemInput) -> None:
    if data.zone is not None and data.zone.site_id != site.pk:
        raise ValidationError({"zone": _("Not a zone of %(site)s.") % {"site": site.code}})
    if data.incident is not None and data.incident.site_id != site.pk:
        raise ValidationError({"incident": _("Not an incident of %(site)s.") % {"site": site.code}})
    if data.found_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"found_at": _("The time found is in the future.")})


def record_found_item(
    site: Site, actor: AbstractBaseUser, data: FoundItemInput, *, reason: str
) -> FoundItem:
    """Record an item found at `site` and where it is kept; a photo is checked by its
    content (a photo type only) before anything is stored."""
    require_role(actor, site, REPORT_ROLES)
    item = FoundItem(
        site=site,
        zone=data.zone,
        incident=data.incident,
        description=_required(data.description, "description"),
        found_at=data.found_at,
        found_by=_required(data.found_by, "found_by"),
        storage_location=_required(data.storage_location, "storage_location"),
        recorded_by=actor,
    )
    _check_links(site, data)
    if data.photo:
        _store_photo(item, data.photo)
    with audited_change(actor, reason):
        item.save()
    return item


class IdempotencyConflict(Exception):
    """A tablet's client_uuid sent again for a different found item (HTTP 422)."""


def _same_item(existing: FoundItem, site: Site, actor, data: FoundItemInput) -> bool:
    return (
        existing.site_id == site.pk
        and existing.recorded_by_id == actor.pk
        and existing.zone_id == (data.zone.pk if data.zone else None)
        and existing.description == (data.description or "").strip()
        and existing.found_by == (data.found_by or "").strip()
        and existing.storage_location == (data.storage_location or "").strip()
        and existing.found_at == data.found_at
    )


def _replayed(client_uuid: uuid.UUID, site: Site, actor, data: FoundItemInput):
    existing = FoundItem.objects.filter(client_uuid=client_uuid).first()
    if existing is not None and not _same_item(existing, site, actor, data):
        raise IdempotencyConflict(_("This client_uuid was used for another found item."))
    return existing


def record_found_item_once(
    site: Site, actor: AbstractBaseUser, data: FoundItemInput, *, client_uuid: uuid.UUID
) -> tuple[FoundItem, bool]:
    """Record an item the guard tablet's outbox sends (no photo: a photo is added on the
    item's page), answering `(item, created)`: the same `client_uuid` sent again gives its row
    unchanged; sent for a different item, IdempotencyConflict. `found_at` is the tablet's
    clock, refused when no working clock would show it (10 minutes ahead, 7 days behind)."""
    require_role(actor, site, REPORT_ROLES)
    existing = _replayed(client_uuid, site, actor, data)
    if existing is not None:
        return existing, False
    now = timezone.now()
    if data.found_at > now + DEVICE_AHEAD or data.found_at < now - DEVICE_BEHIND:
        raise ValidationError({"found_at": _("This time is too far from the server's clock.")})
    if data.photo or data.incident:
        raise ValidationError({"detail": _("The outbox records no photo and no incident.")})
    item = FoundItem(
        site=site,
        zone=data.zone,
        description=_required(data.description, "description"),
        found_at=data.found_at,
        found_by=_required(data.found_by, "found_by"),
        storage_location=_required(data.storage_location, "storage_location"),
        recorded_by=actor,
        client_uuid=client_uuid,
    )
    # Not `_check_links`: its 5 minutes are for the server's own clock, this is the tablet's.
    if data.zone is not None and data.zone.site_id != site.pk:
        raise ValidationError({"zone": _("Not a zone of %(site)s.") % {"site": site.code}})
    try:
        with audited_change(actor, "found item recorded on the guard tablet"):
            item.save()
    except IntegrityError:
        # The same record sent twice at once: the first one won.
        existing = _replayed(client_uuid, site, actor, data)
        if existing is None:
            raise
        return existing, False
    return item, True


def _store_photo(item: FoundItem, photo: File) -> None:
    """Check `photo` by its content (a photo type only) and store it under a generated name;
    nothing is written when it is refused."""
    file_type = uploads.check_photo(photo)
    item.photo_content_type = file_type.content_type
    item.photo_sha256 = uploads.upload_sha256(photo)
    photo.seek(0)
    item.photo.save(uploads.generated_name(file_type), photo, save=False)


def add_photo(item: FoundItem, actor: AbstractBaseUser, photo: File, *, reason: str) -> FoundItem:
    """Add the photo of a stored item recorded without one (the API sends the record as JSON
    and its photo apart). A photo once stored is not replaced: it is what the owner is shown."""
    require_role(actor, item.site, REPORT_ROLES)
    reason = _required(reason, "reason")
    with audited_change(actor, reason):
        item = _stored(item)
        if item.photo:
            raise ValidationError(
                {"photo": ValidationError(_("This item already has a photo."), code=HAS_PHOTO)}
            )
        _store_photo(item, photo)
        item.save()
    return item


def _stored(item: FoundItem) -> FoundItem:
    locked = FoundItem.objects.select_for_update().get(pk=item.pk)
    if locked.state != FoundItemState.STORED:
        message = _("This item is no longer stored (%(state)s).") % {
            "state": locked.get_state_display()
        }
        raise ValidationError({"state": ValidationError(message, code=NOT_STORED)})
    return locked


def hand_over(
    item: FoundItem,
    actor: AbstractBaseUser,
    *,
    owner_name: str,
    owner_confirms: bool,
    reason: str,
) -> FoundItem:
    """Give a stored item back to its owner: the owner's name as typed, and the owner's
    confirmation of receipt (required)."""
    require_role(actor, item.site, REPORT_ROLES)
    owner_name = _required(owner_name, "owner_name")
    if not owner_confirms:
        raise ValidationError({"owner_confirms": _("The owner must confirm receipt.")})
    with audited_change(actor, reason):
        item = _stored(item)
        item.state = FoundItemState.HANDED_OVER
        item.owner_name = owner_name
        item.owner_confirmed = True
        item.left_at = timezone.now()
        item.left_by = actor
        item.save()
    return item


def disposal_due_at(item: FoundItem) -> datetime:
    return item.found_at + timedelta(days=keep_days())


def dispose(item: FoundItem, actor: AbstractBaseUser, *, reason: str) -> FoundItem:
    """Dispose of a stored item kept for the retention period (supervisors, managers)."""
    require_role(actor, item.site, REVIEW_ROLES)
    reason = _required(reason, "reason")
    with audited_change(actor, reason):
        item = _stored(item)
        if disposal_due_at(item) > timezone.now():
            due = f"{disposal_due_at(item).astimezone(item.site.tzinfo):%Y-%m-%d}"
            message = _("Kept until %(date)s: it cannot be disposed of before.") % {"date": due}
            raise ValidationError({"state": ValidationError(message, code=KEPT)})
        item.state = FoundItemState.DISPOSED
        item.disposal_reason = reason
        item.left_at = timezone.now()
        item.left_by = actor
        item.save()
    return item


# --- lists and the photo ------------------------------------------------------------------


def site_items(site: Site) -> QuerySet[FoundItem]:
    """The site's items with what their lists show, newest found first."""
    return FoundItem.objects.filter(site=site).select_related(
        "zone", "recorded_by", "left_by", "incident"
    )


def due_for_disposal(site: Site, now: datetime | None = None) -> QuerySet[FoundItem]:
    """Stored items kept for the retention period, the oldest first."""
    cutoff = (now or timezone.now()) - timedelta(days=keep_days())
    return (
        site_items(site)
        .filter(state=FoundItemState.STORED, found_at__lte=cutoff)
        .order_by("found_at", "pk")
    )


def serve_photo(item: FoundItem) -> FileResponse:
    """The item's photo, never rendered as anything but the image type its content showed
    (the caller has checked the viewer's role at the item's site)."""
    if not item.photo:
        raise Http404("No photo.")
    try:
        handle = item.photo.open("rb")
    except FileNotFoundError as error:
        raise Http404("The stored file is missing.") from error
    response = FileResponse(handle, content_type=item.photo_content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
