"""The visitor day sheet: sign a visitor in and out at a site, read one site's sheet of one
day, and the evacuation list (everyone signed in and not out) as a page and a PDF.

The line (PRIVACY.md, DESIGN.md): a sheet is one site and one day. Nothing here takes a name
to look up, nothing lists more than one site's day (the evacuation list is one site's people
on site now), and there is no person record linking visits. The purge removes a sheet after
the site's `visitors` period (services/retention_plans.py).
"""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from facility_log.models import Site, Visitor
from facility_log.scoping import REPORT_ROLES, require_role
from facility_log.services.audit import audited_change
from facility_log.services.pdf_render import render_pdf

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


def sign_in_visitor(
    site: Site,
    actor: AbstractBaseUser,
    *,
    name: str,
    host: str,
    company: str = "",
    badge_number: str = "",
) -> Visitor:
    """Put a visitor on today's sheet of `site`, signed in now (guards, supervisors and
    managers of the site)."""
    require_role(actor, site, REPORT_ROLES)
    texts = _clean_texts(
        {"name": name, "host": host, "company": company, "badge_number": badge_number}
    )
    now = timezone.now()
    with audited_change(actor, "visitor signed in"):
        visitor = Visitor(
            site=site,
            day=now.astimezone(site.tzinfo).date(),
            signed_in_at=now,
            signed_in_by=actor,
            **texts,
        )
        visitor.save()
    return visitor


def sign_out_visitor(visitor: Visitor, actor: AbstractBaseUser) -> Visitor:
    """Sign a visitor out now (guards, supervisors and managers of the visitor's site)."""
    with audited_change(actor, "visitor signed out"):
        current = Visitor.objects.select_for_update().select_related("site").get(pk=visitor.pk)
        require_role(actor, current.site, REPORT_ROLES)
        if current.signed_out_at is not None:
            raise AlreadySignedOut({"signed_out_at": _("This visitor is already signed out.")})
        current.signed_out_at = timezone.now()
        current.signed_out_by = actor
        current.save()
    return current


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
