"""The review workflow: submit, return, approve, close and void."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from facility_log.models import Incident, IncidentCounter, Review, Site
from facility_log.models.incidents import ReviewDecision, Status
from facility_log.scoping import MANAGE_ROLES, REVIEW_ROLES, require_role
from facility_log.services import notifications
from facility_log.services.audit import audited_change
from facility_log.services.incidents.rules import (
    OPEN_AFTER_SUBMISSION,
    REQUIRED_TO_SUBMIT,
    _check_version,
    _locked,
    _require_author_or_reviewer,
    _require_other_reviewer,
    _require_status,
    _require_text,
)


def _next_number(site: Site) -> str:
    """The next number of the site's year. The counter row is locked (FOR UPDATE) until the
    submitting transaction ends, so concurrent submissions queue and numbers have no gaps."""
    year = timezone.now().astimezone(site.tzinfo).year
    counter, _ = IncidentCounter.objects.select_for_update().get_or_create(site=site, year=year)
    counter.last_number += 1
    counter.save()
    return f"{site.code}-{year}-{counter.last_number:04d}"


def missing_to_submit(incident: Incident) -> list[str]:
    """The fields of REQUIRED_TO_SUBMIT that `incident` leaves empty (none: it can be
    submitted as far as its content goes)."""
    fields = [Incident._meta.get_field(name) for name in REQUIRED_TO_SUBMIT]
    return [f.name for f in fields if getattr(incident, f.attname) in (None, "")]


def submit_incident(
    incident: Incident,
    actor: AbstractBaseUser,
    *,
    reason: str = "submitted for review",
    expected_version: int | None = None,
) -> Incident:
    """Submit a draft (or resubmit a returned incident) for review. The first submission
    issues the site's next number (SITE-YEAR-NNNN)."""
    with audited_change(actor, reason):
        current = _locked(incident)
        _require_author_or_reviewer(current, actor)
        _require_status(current, (Status.DRAFT, Status.RETURNED), "submitted")
        _check_version(current, expected_version)
        missing = missing_to_submit(current)
        if missing:
            raise ValidationError(dict.fromkeys(missing, "Required before submitting."))
        if not current.number:
            current.number = _next_number(current.site)
        current.status = Status.SUBMITTED
        current.submitted_at = timezone.now()
        current.save()
        notifications.report_submitted(current)
    return current


def return_incident(incident: Incident, actor: AbstractBaseUser, *, comment: str) -> Incident:
    """Send a submitted incident back to its author with a comment saying what is missing."""
    comment = _require_text(comment, "comment", "Say what the author should add or correct.")
    return _review(incident, actor, ReviewDecision.RETURNED, Status.RETURNED, comment)


def approve_incident(incident: Incident, actor: AbstractBaseUser, *, comment: str = "") -> Incident:
    """Accept a submitted incident as the site's record of what happened."""
    return _review(incident, actor, ReviewDecision.APPROVED, Status.APPROVED, comment)


def _review(incident, actor, decision, new_status, comment) -> Incident:
    reason = f"{decision}: {comment}" if comment else str(decision)
    with audited_change(actor, reason):
        current = _locked(incident)
        _require_other_reviewer(current, actor)
        _require_status(current, (Status.SUBMITTED,), str(decision))
        Review.objects.create(incident=current, reviewer=actor, decision=decision, comment=comment)
        current.status = new_status
        current.save()
        if decision == ReviewDecision.RETURNED:
            notifications.report_returned(current, comment)
    return current


def close_incident(incident: Incident, actor: AbstractBaseUser, *, reason: str) -> Incident:
    """Close an approved incident (managers): nothing more is expected on it."""
    reason = _require_text(reason, "reason", "Say why the incident is closed.")
    with audited_change(actor, reason):
        current = _locked(incident)
        require_role(actor, current.site, MANAGE_ROLES)
        _require_status(current, (Status.APPROVED,), "closed")
        current.status = Status.CLOSED
        current.save()
    return current


def void_incident(incident: Incident, actor: AbstractBaseUser, *, reason: str) -> Incident:
    """Mark an incident as void (e.g. a duplicate or made in error). It is kept, with its
    number, so numbering stays gap-free; the author may void their own draft, supervisors and
    managers any open incident."""
    reason = _require_text(reason, "reason", "Say why the incident is void.")
    with audited_change(actor, f"void: {reason}"):
        current = _locked(incident)
        _require_status(current, (Status.DRAFT, *OPEN_AFTER_SUBMISSION), "voided")
        if current.is_draft:
            _require_author_or_reviewer(current, actor)
        else:
            require_role(actor, current.site, REVIEW_ROLES)
        current.status = Status.VOID
        current.void_reason = reason
        current.save()
    return current
