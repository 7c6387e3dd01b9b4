"""What may change when: field sets, the conflict errors, and the guards every step uses."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext

from facility_log.models import Incident
from facility_log.models.incidents import REPORT_FIELDS, Status
from facility_log.scoping import REPORT_ROLES, REVIEW_ROLES, has_role, require_role

# What a draft may contain; after submission only CORRECTABLE fields change, with a reason.
DRAFT_FIELDS = frozenset(REPORT_FIELDS)


# The author's account of events is never rewritten: additions go into supplements.
NEVER_CORRECTED = frozenset({"narrative", "actions_taken"})


CORRECTABLE_FIELDS = DRAFT_FIELDS - NEVER_CORRECTED


REQUIRED_TO_SUBMIT = ("category", "severity", "occurred_from", "narrative")


NOT_IN_PLACE = (
    "A submitted incident is not edited in place: add a supplement, or correct a field "
    "with a reason."
)


OPEN_AFTER_SUBMISSION = (Status.SUBMITTED, Status.RETURNED, Status.APPROVED)


class EditConflict(Exception):
    """An edit was made on an older version than the one stored (HTTP 409)."""

    def __init__(self, current: Incident, expected_version: int):
        self.current = current
        self.expected_version = expected_version
        super().__init__(
            f"{current.label} was changed by someone else: you edited version "
            f"{expected_version}, the stored version is {current.version}."
        )


class StateConflict(ValidationError):
    """The incident is not in a state that allows the action, usually because someone else
    moved it on meanwhile (two supervisors approving at once): a clash with its state (HTTP
    409 with the incident as it is now), still a ValidationError for pages and forms."""

    def __init__(self, current: Incident, message: str):
        self.current = current
        super().__init__({"status": message})


class IdempotencyConflict(Exception):
    """A client UUID was sent again with a different payload (HTTP 422)."""


# --- helpers ----------------------------------------------------------------------------


def _locked(incident: Incident) -> Incident:
    """The stored row, locked until the end of the transaction (only this row: the site is
    not locked, so work at the same site is not serialised needlessly)."""
    return (
        Incident.objects.select_for_update(of=("self",)).select_related("site").get(pk=incident.pk)
    )


def _check_version(incident: Incident, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != incident.version:
        raise EditConflict(incident, int(expected_version))


def _require_status(incident: Incident, allowed, action: str) -> None:
    if incident.status not in allowed:
        state = incident.status  # "returned", not the display "Returned to author"
        article = "An" if state[:1] in "aeiou" else "A"
        raise StateConflict(incident, f"{article} {state} incident cannot be {action}.")


def _require_author_or_reviewer(incident: Incident, actor: AbstractBaseUser) -> None:
    require_role(actor, incident.site, REPORT_ROLES)
    if incident.author_id != actor.pk and not has_role(actor, incident.site, REVIEW_ROLES):
        raise PermissionDenied("Only the author or a supervisor can change this incident.")


def _require_other_reviewer(incident: Incident, actor: AbstractBaseUser) -> None:
    require_role(actor, incident.site, REVIEW_ROLES)
    if incident.author_id == actor.pk:
        raise PermissionDenied("A report is reviewed by someone other than its author.")


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _apply(incident: Incident, changes: dict, allowed: frozenset) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    for name, value in changes.items():
        setattr(incident, name, value)
    _validate(incident)
    incident.save()


def _validate(incident: Incident) -> None:
    errors: dict[str, list[str]] = {}
    if incident.zone_id and incident.zone.site_id != incident.site_id:
        errors["zone"] = [gettext("This zone is not at %(site)s.") % {"site": incident.site.code}]
    if incident.category_id and not incident.category.is_active:
        errors["category"] = [gettext("This category is no longer in use.")]
    try:
        incident.full_clean(exclude=["author"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
