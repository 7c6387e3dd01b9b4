"""Procedures for tests, written through the service as a site's manager would."""

from facility_log.models import Procedure
from facility_log.services import procedures
from tests.incident_factories import category

FORCED_STEPS = ["Check the door on camera", "Send a guard to the door", "Notify the manager"]
DURESS_STEPS = ["Call the guard back", "Call the police", "Notify the manager"]
TRESPASS_STEPS = ["Ask the person to leave", "Note a description", "Call the police if needed"]


def alarm_procedure(p, alarm_type="forced_open", steps=None, site=None) -> Procedure:
    """The active procedure for `alarm_type` at site A (made once)."""
    site = site or p.site_a
    existing = Procedure.objects.filter(site=site, alarm_type=alarm_type, is_active=True).first()
    return existing or procedures.save_procedure(
        site,
        p.manager_ab,
        title=f"{alarm_type} response",
        steps=steps or (DURESS_STEPS if alarm_type == "duress" else FORCED_STEPS),
        alarm_type=alarm_type,
        reason="written for the night team",
    )


def incident_procedure(p, name="Trespass") -> Procedure:
    """The active procedure for incidents of category `name` at site A (made once)."""
    cat = category(name)
    existing = Procedure.objects.filter(site=p.site_a, category=cat, is_active=True).first()
    return existing or procedures.save_procedure(
        p.site_a,
        p.manager_ab,
        title=f"{name} response",
        steps=TRESPASS_STEPS,
        category=cat,
        reason="written for the night team",
    )


def procedure_at_a(p) -> Procedure:
    return alarm_procedure(p)
