"""To whom a record was handed: the disclosure log (who exported what, to whom, why).

Append-only and chained into the ledger like every other append-only record. Who *read* a
record is the view log (services/view_log.py).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models

from facility_log.models import Disclosure, Site
from facility_log.services.audit import audited_change
from facility_log.services.ledger import object_type


def record_disclosure(
    actor: AbstractBaseUser,
    obj: models.Model,
    *,
    site: Site,
    label: str,
    recipient: str,
    reason: str,
    case_number: str = "",
    redactions: list[str] | None = None,
    package_sha256: str = "",
) -> Disclosure:
    """Record an export of `obj` to `recipient`. Recipient and reason are required: a
    disclosure nobody can explain is exactly what an auditor looks for."""
    errors = {}
    if not recipient.strip():
        errors["recipient"] = "Say who receives the export (agency or organisation)."
    if not reason.strip():
        errors["reason"] = "Say why it is disclosed."
    if errors:
        raise ValidationError(errors)
    with audited_change(actor, f"disclosed {label} to {recipient}"):
        return Disclosure.objects.create(
            site=site,
            object_type=object_type(type(obj)),
            object_pk=str(obj.pk),
            object_label=label,
            disclosed_by=actor,
            disclosed_by_name=actor.get_username(),
            recipient=recipient.strip(),
            case_number=case_number.strip(),
            reason=reason.strip(),
            redactions=list(redactions or []),
            package_sha256=package_sha256,
        )


def disclosures_of(obj: models.Model):
    return Disclosure.objects.filter(object_type=object_type(type(obj)), object_pk=str(obj.pk))
