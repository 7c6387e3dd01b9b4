"""Signing off round exceptions: a supervisor says what was done about them."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from facility_log.models import RoundException, Site
from facility_log.scoping import REVIEW_ROLES, require_role
from facility_log.services.audit import audited_change


def open_exceptions(site: Site):
    """The site's exceptions still waiting for a sign-off (not withdrawn), oldest first."""
    return RoundException.objects.filter(
        site=site, withdrawn_at__isnull=True, signed_off_at__isnull=True
    ).order_by("detected_at", "pk")


def sign_off_exceptions(
    site: Site, actor: AbstractBaseUser, exception_ids: list[int], *, comment: str
) -> int:
    """Sign off the listed open exceptions of `site` with one comment (supervisors and
    managers). Ids that are not open exceptions of this site are refused by name."""
    require_role(actor, site, REVIEW_ROLES)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "Say what was done, or why nothing was needed."})
    if not exception_ids:
        raise ValidationError({"exceptions": "Choose at least one exception."})
    with audited_change(actor, f"round exceptions signed off: {comment}"):
        found = list(open_exceptions(site).select_for_update().filter(pk__in=exception_ids))
        missing = sorted(set(exception_ids) - {e.pk for e in found})
        if missing:
            raise ValidationError(
                {
                    "exceptions": f"Not open at {site.code} (signed off or withdrawn already?): "
                    f"{', '.join(map(str, missing))}."
                }
            )
        now = timezone.now()
        for exception in found:
            exception.signed_off_at, exception.signed_off_by = now, actor
            exception.sign_off_comment = comment
            exception.save()
    return len(found)
