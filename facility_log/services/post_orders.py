"""Post orders: writing them (each edit a new version with its reason), the files that go
with them, and the acknowledgement a guard gives at the start of a shift.

Supervisors and managers of the site write; every member of the site reads. A guard (or
anyone starting a shift) must acknowledge every current version of the site's post orders
not acknowledged before: `start_shift` asks `unacknowledged` and refuses naming them, and
records the acknowledgements with the shift (`record_acknowledgements`).
"""

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from facility_log.markup import render_markup
from facility_log.models import (
    PostOrder,
    PostOrderAck,
    PostOrderAttachment,
    PostOrderVersion,
    Shift,
    Site,
    Zone,
)
from facility_log.models.post_orders import BODY_MAX, TITLE_MAX
from facility_log.scoping import REVIEW_ROLES, require_role
from facility_log.services import filetypes, uploads
from facility_log.services.audit import audited_change
from facility_log.services.staged_files import staged_files

# Plans, contact sheets, photos of a door: documents and pictures only.
ATTACHMENT_TYPES = uploads.PHOTO_TYPES | {filetypes.PDF}
NOT_A_DOCUMENT = gettext_lazy("Attach a PDF or a photo (JPEG, PNG, GIF or WebP).")
MAX_ATTACHMENTS = 10
# Code of the refusal for a post order already retired (the API answers 409 for it).
RETIRED = "retired"


class StaleVersion(Exception):
    """The post order changed since the editor read it (the API answers 409)."""

    def __init__(self, current: int):
        self.current = current
        super().__init__(
            _("This post order is at version %(current)s now; read it again before editing.")
            % {"current": current}
        )

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return {"version": [str(self)]}


def _clean_text(title: str, body: str, reason: str) -> tuple[str, str, str]:
    title, body, reason = (title or "").strip(), (body or "").strip(), (reason or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Give the post order a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("At most %(max)s characters.") % {"max": TITLE_MAX}
    if not body:
        errors["body"] = _("Write the instructions.")
    elif len(body) > BODY_MAX:
        errors["body"] = _("At most %(max)s characters.") % {"max": BODY_MAX}
    if not reason:
        errors["reason"] = _("Say why (it is kept with the version).")
    if errors:
        raise ValidationError(errors)
    return title, body, reason


def _check_zone(site: Site, zone: Zone | None) -> None:
    if zone is not None and zone.site_id != site.pk:
        raise ValidationError({"zone": _("Not a zone of %(site)s.") % {"site": site.code}})


def _check_files(files: Sequence[File]) -> list[tuple[File, object]]:
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": _("At most %(max)s files at once.") % {"max": MAX_ATTACHMENTS}}
        )
    return [
        (
            upload,
            uploads.check_upload(
                upload, field="attachments", allowed=ATTACHMENT_TYPES, refusal=NOT_A_DOCUMENT
            ),
        )
        for upload in files
    ]


def _write_version(order: PostOrder, actor, reason: str, checked, staging) -> PostOrderVersion:
    version = PostOrderVersion.objects.create(
        post_order=order,
        number=order.version,
        title=order.title,
        body=order.body,
        reason=reason,
        written_by=actor,
    )
    for upload, file_type in checked:
        attachment = PostOrderAttachment(
            post_order=order,
            version=version,
            original_name=(getattr(upload, "name", "") or "upload").rsplit("/", 1)[-1][:255],
            content_type=file_type.content_type,
            size=upload.size,
            sha256=uploads.upload_sha256(upload),
            uploaded_by=actor,
        )
        name = uploads.generated_name(file_type, f"post-orders/{order.site.code}")
        upload.seek(0)
        staging.save(attachment, "file", name, upload)
        attachment.save()
    return version


def create_post_order(
    site: Site,
    actor: AbstractBaseUser,
    *,
    title: str,
    body: str,
    reason: str,
    zone: Zone | None = None,
    attachments: Sequence[File] = (),
) -> PostOrder:
    """Write a new post order (version 1) for `site`, or one zone of it. Supervisors and
    managers of the site only; files are checked by content (PDF or photo)."""
    require_role(actor, site, REVIEW_ROLES)
    title, body, reason = _clean_text(title, body, reason)
    _check_zone(site, zone)
    checked = _check_files(attachments)
    with staged_files() as staging, audited_change(actor, reason):
        order = PostOrder(site=site, zone=zone, title=title, body=body, version=1)
        order.save()
        _write_version(order, actor, reason, checked, staging)
    return order


def edit_post_order(
    order: PostOrder,
    actor: AbstractBaseUser,
    *,
    expected_version: int,
    title: str,
    body: str,
    reason: str,
    zone: Zone | None = None,
    attachments: Sequence[File] = (),
) -> PostOrder:
    """Write the next version of `order`; the one read was `expected_version` (StaleVersion
    when another edit came first). Every guard acknowledges the new version at their next
    shift start. Earlier versions, and their files, are kept."""
    require_role(actor, order.site, REVIEW_ROLES)
    title, body, reason = _clean_text(title, body, reason)
    _check_zone(order.site, zone)
    checked = _check_files(attachments)
    with staged_files() as staging, audited_change(actor, reason):
        current = _in_force(order)
        if current.version != expected_version:
            raise StaleVersion(current.version)
        current.title, current.body, current.zone = title, body, zone
        current.version += 1
        current.updated_at = timezone.now()
        current.save()
        _write_version(current, actor, reason, checked, staging)
    return current


def _in_force(order: PostOrder) -> PostOrder:
    """`order` locked for a change; refused when it was retired (nothing changes it after)."""
    current = PostOrder.objects.select_for_update().select_related("site").get(pk=order.pk)
    if current.retired_at is not None:
        message = _("This post order was retired on %(date)s.") % {
            "date": f"{current.retired_at.astimezone(current.site.tzinfo):%Y-%m-%d}"
        }
        raise ValidationError({"state": ValidationError(message, code=RETIRED)})
    return current


def retire_post_order(order: PostOrder, actor: AbstractBaseUser, *, reason: str) -> PostOrder:
    """Take `order` out of force (supervisors and managers of the site), with a reason. It
    keeps its versions, files and acknowledgements, but is no longer asked for at a shift
    start nor shown on the tablet; it cannot be edited after."""
    require_role(actor, order.site, REVIEW_ROLES)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("This field is required.")})
    with audited_change(actor, reason):
        current = _in_force(order)
        current.retired_at = timezone.now()
        current.retired_by = actor
        current.retire_reason = reason
        current.save()
    return current


def current_versions(site: Site) -> QuerySet[PostOrderVersion]:
    """The current version of each of `site`'s post orders in force (not retired), by
    title."""
    return (
        PostOrderVersion.objects.filter(
            post_order__site=site,
            post_order__retired_at__isnull=True,
            number=F("post_order__version"),
        )
        .select_related("post_order__zone")
        .order_by("title", "pk")
    )


def unacknowledged(site: Site, guard: AbstractBaseUser) -> list[PostOrderVersion]:
    """The current versions at `site` that `guard` has not acknowledged: the post orders
    written or changed since the guard last confirmed them."""
    return list(current_versions(site).exclude(acks__guard=guard))


def refusal(pending: Iterable[PostOrderVersion]) -> ValidationError:
    """The error that names the post orders still to be read and acknowledged."""
    names = ", ".join(
        _("“%(title)s” (version %(number)s)") % {"title": v.title, "number": v.number}
        for v in pending
    )
    return ValidationError(
        {
            "post_orders": _(
                "Read and acknowledge the post orders that changed since you last did: %(names)s."
            )
            % {"names": names}
        }
    )


def check_acknowledged(
    site: Site, guard: AbstractBaseUser, acknowledged: Iterable[int]
) -> list[PostOrderVersion]:
    """The versions the starting `guard` acknowledges now (ids in `acknowledged`); refused,
    naming them, when a changed post order is not among them."""
    pending = unacknowledged(site, guard)
    given = {int(pk) for pk in acknowledged}
    if missing := [v for v in pending if v.pk not in given]:
        raise refusal(missing)
    return pending


def record_acknowledgements(
    shift: Shift, guard: AbstractBaseUser, versions: Iterable[PostOrderVersion]
) -> list[PostOrderAck]:
    """Write the acknowledgements given at the start of `shift`. Call inside the shift's
    own transaction (services/shifts.start_shift), so a refused start leaves none."""
    return [
        PostOrderAck.objects.create(
            version=v, guard=guard, shift=shift, acknowledged_at=shift.started_at
        )
        for v in versions
    ]


def tablet_data(site: Site, guard: AbstractBaseUser) -> list[dict]:
    """The site's current post orders for the guard's tablet, to read with no network: the
    text as safe HTML, and whether `guard` still has to acknowledge the version (one query)."""
    acked = PostOrderAck.objects.filter(version=OuterRef("pk"), guard=guard)
    versions = current_versions(site).annotate(acknowledged=Exists(acked))
    return [
        {
            "version_id": v.pk,
            "title": v.title,
            "number": v.number,
            "zone": v.post_order.zone.name if v.post_order.zone else None,
            "body_html": str(render_markup(v.body)),
            "acknowledged": v.acknowledged,
        }
        for v in versions
    ]


def serve_attachment(attachment: PostOrderAttachment) -> FileResponse:
    """The stored bytes as a download, never rendered inline, sandboxed (as incident files
    are, services/downloads.py). Pass one whose site the viewer holds a role at."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The stored file is missing.") from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
