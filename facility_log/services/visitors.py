"""The visitor day sheet: sign a visitor in and out at a site, read one site's sheet of one
day, and the evacuation list (everyone signed in and not out) as a page and a PDF.

The line (PRIVACY.md, DESIGN.md): a sheet is one site and one day. Nothing here takes a name
to look up, nothing lists more than one site's day (the evacuation list is one site's people
on site now), and there is no person record linking visits. The purge removes a sheet after
the site's `visitors` period (services/retention_plans.py).
"""

import uuid
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from facility_log.models import Site, Visitor
from facility_log.scoping import REPORT_ROLES, require_role
from facility_log.services.audit import audited_change
from facility_log.services.pdf_render import render_pdf

# How far the guard tablet's clock may put a sign-in or sign-out from the server's: ahead by
# a clock's drift, behind by an outbox kept offline for a few days (a visit older than that
# would be a reset clock, and would land on a sheet nobody looks at any more).
DEVICE_AHEAD = timedelta(minutes=10)
DEVICE_BEHIND = timedelta(days=7)

TEXT_FIELDS = {"name": 200, "host": 200, "company": 200, "badge_number": 50}
REQUIRED = ("name", "host")


class AlreadySignedOut(ValidationError):
    """The visitor was signed out before (the API answers 409)."""


def local_today(site: Site) -> date:
    """Today in the site's time zone: the day a sign-in now belongs to."""
    return timezone.now().astimezone(site.tzinfo).date()


def day_sheet(site: Site, day: date) -> QuerySet[Visitor]:
    """One site's sheet of one local day, in sign-in order (two queries at most to show it,
    whatever its length: the rows and their signers)."""
    return Visitor.objects.filter(site=site, day=day).select_related(
        "signed_in_by", "signed_out_by"
    )


def on_site_now(site: Site) -> QuerySet[Visitor]:
    """Everyone signed in at `site` and not signed out, whatever day they came (someone not
    signed out yesterday is still someone to look for in an evacuation)."""
    return Visitor.objects.filter(site=site, signed_out_at__isnull=True).select_related(
        "signed_in_by"
    )


def _clean_texts(fields: dict[str, str]) -> dict[str, str]:
    cleaned, problems = {}, {}
    for field, limit in TEXT_FIELDS.items():
        value = (fields.get(field) or "").strip()
        if field in REQUIRED and not value:
            problems[field] = _("This field is required.")
        elif len(value) > limit:
            problems[field] = _("At most %(limit)d characters.") % {"limit": limit}
        cleaned[field] = value
    if problems:
        raise ValidationError(problems)
    return cleaned


def _device_time(field: str, value: datetime | None) -> datetime:
    """The time the tablet gave (`None`: now), refused naming `field` when no working clock
    would show it."""
    now = timezone.now()
    if value is None:
        return now
    if value > now + DEVICE_AHEAD or value < now - DEVICE_BEHIND:
        raise ValidationError({field: _("This time is too far from the server's clock.")})
    return value


class IdempotencyConflict(Exception):
    """A tablet's client_uuid sent again for a different visitor or content (HTTP 422)."""


def _same_sign_in(existing: Visitor, site: Site, actor, texts: dict) -> Visitor:
    same = (
        existing.site_id == site.pk
        and existing.signed_in_by_id == actor.pk
        and all(getattr(existing, name) == value for name, value in texts.items())
    )
    if not same:
        raise IdempotencyConflict(_("This client_uuid was used for another sign-in."))
    return existing


def sign_in_visitor(
    site: Site,
    actor: AbstractBaseUser,
    *,
    name: str,
    host: str,
    company: str = "",
    badge_number: str = "",
    signed_in_at: datetime | None = None,
    client_uuid: uuid.UUID | None = None,
) -> Visitor:
    """Put a visitor on the sheet of `site` for the local day of `signed_in_at` (default:
    now), signed in then (guards, supervisors and managers of the site). With the tablet's
    `client_uuid`, the same sign-in sent again answers its first row (`created` is then
    False: see `sign_in_visitor_once`)."""
    return sign_in_visitor_once(
        site,
        actor,
        name=name,
        host=host,
        company=company,
        badge_number=badge_number,
        signed_in_at=signed_in_at,
        client_uuid=client_uuid,
    )[0]


def sign_in_visitor_once(
    site: Site,
    actor: AbstractBaseUser,
    *,
    name: str,
    host: str,
    company: str = "",
    badge_number: str = "",
    signed_in_at: datetime | None = None,
    client_uuid: uuid.UUID | None = None,
) -> tuple[Visitor, bool]:
    """`sign_in_visitor` answering `(visitor, created)`: a `client_uuid` sent before gives
    its row, unchanged; sent for a different visitor, IdempotencyConflict."""
    require_role(actor, site, REPORT_ROLES)
    texts = _clean_texts(
        {"name": name, "host": host, "company": company, "badge_number": badge_number}
    )
    if client_uuid is not None:
        existing = Visitor.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            return _same_sign_in(existing, site, actor, texts), False
    at = _device_time("signed_in_at", signed_in_at)
    try:
        with audited_change(actor, "visitor signed in"):
            visitor = Visitor(
                site=site,
                day=at.astimezone(site.tzinfo).date(),
                signed_in_at=at,
                signed_in_by=actor,
                client_uuid=client_uuid,
                **texts,
            )
            visitor.save()
    except IntegrityError:
        # The same sign-in sent twice at once: the first one won.
        existing = Visitor.objects.filter(client_uuid=client_uuid).first()
        if client_uuid is None or existing is None:
            raise
        return _same_sign_in(existing, site, actor, texts), False
    return visitor, True


def sign_out_visitor(
    visitor: Visitor,
    actor: AbstractBaseUser,
    *,
    signed_out_at: datetime | None = None,
    client_uuid: uuid.UUID | None = None,
) -> Visitor:
    """Sign a visitor out at `signed_out_at` (default: now; guards, supervisors and managers
    of the visitor's site). With the tablet's `client_uuid`, the same sign-out sent again
    answers the row as it is (see `sign_out_visitor_once`)."""
    return sign_out_visitor_once(
        visitor, actor, signed_out_at=signed_out_at, client_uuid=client_uuid
    )[0]


def sign_out_visitor_once(
    visitor: Visitor,
    actor: AbstractBaseUser,
    *,
    signed_out_at: datetime | None = None,
    client_uuid: uuid.UUID | None = None,
) -> tuple[Visitor, bool]:
    """`sign_out_visitor` answering `(visitor, signed_out_now)`. A visitor already signed out
    is AlreadySignedOut, unless by this very `client_uuid` (a replay: `False`); the
    `client_uuid` of another visitor's sign-out is IdempotencyConflict."""
    if client_uuid is not None:
        other = Visitor.objects.filter(signed_out_uuid=client_uuid).exclude(pk=visitor.pk)
        if other.exists():
            raise IdempotencyConflict(_("This client_uuid was used for another sign-out."))
    with audited_change(actor, "visitor signed out"):
        current = Visitor.objects.select_for_update().select_related("site").get(pk=visitor.pk)
        require_role(actor, current.site, REPORT_ROLES)
        if client_uuid is not None and current.signed_out_uuid == client_uuid:
            return current, False
        if current.signed_out_at is not None:
            raise AlreadySignedOut({"signed_out_at": _("This visitor is already signed out.")})
        at = _device_time("signed_out_at", signed_out_at)
        if at < current.signed_in_at:
            raise ValidationError({"signed_out_at": _("This is before the visitor signed in.")})
        current.signed_out_at = at
        current.signed_out_by = actor
        current.signed_out_uuid = client_uuid
        current.save()
    return current, True


def evacuation_pdf(site: Site) -> bytes:
    """The evacuation list of `site` (everyone on site now) as a PDF to print or hand over."""
    html = render_to_string(
        "facility_log/visitors/evacuation_pdf.html",
        {
            "site": site,
            "visitors": list(on_site_now(site)),
            "now": timezone.now(),
            "today": local_today(site),
        },
    )
    return render_pdf(html)
