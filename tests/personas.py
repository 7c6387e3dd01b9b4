"""The people every test talks about, built through the real services.

    guard_a, supervisor_a   work at site A (ALPHA)
    manager_ab              manages sites A and B (BRAVO)
    auditor_a               reads site A's history
    outsider_c              a guard at site C (CHARLIE): must never see anything of A or B
    admin                   a superuser

Every view and endpoint test asks "and the outsider gets nothing" (see tests/cross_site.py).
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from facility_log.models import Role, Site, Zone
from facility_log.services import accounts, sites

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Personas:
    site_a: Site
    site_b: Site
    site_c: Site
    zone_a: Zone
    zone_b: Zone
    zone_c: Zone
    guard_a: AbstractBaseUser
    supervisor_a: AbstractBaseUser
    manager_ab: AbstractBaseUser
    auditor_a: AbstractBaseUser
    outsider_c: AbstractBaseUser
    admin: AbstractBaseUser

    def all_people(self) -> dict[str, AbstractBaseUser]:
        return {
            "guard_a": self.guard_a,
            "supervisor_a": self.supervisor_a,
            "manager_ab": self.manager_ab,
            "auditor_a": self.auditor_a,
            "outsider_c": self.outsider_c,
            "admin": self.admin,
        }


def _person(actor, username: str, first: str, **extra) -> AbstractBaseUser:
    return accounts.create_user(
        actor,
        username=username,
        password=PASSWORD,
        first_name=first,
        last_name="Tester",
        reason="test persona",
        **extra,
    )


def build_personas() -> Personas:
    system = accounts.system_actor()
    why = "test persona"
    site_a = sites.create_site(
        system, code="ALPHA", name="Alpha Plant", time_zone="Europe/Berlin", reason=why
    )
    site_b = sites.create_site(
        system, code="BRAVO", name="Bravo Depot", time_zone="Europe/London", reason=why
    )
    site_c = sites.create_site(
        system, code="CHARLIE", name="Charlie Lab", time_zone="America/New_York", reason=why
    )
    zones = [
        sites.create_zone(site, system, name=f"{site.name} lobby", reason=why)
        for site in (site_a, site_b, site_c)
    ]
    people = {
        "guard_a": _person(system, "guard_a", "Gina"),
        "supervisor_a": _person(system, "supervisor_a", "Sam"),
        "manager_ab": _person(system, "manager_ab", "Mia"),
        "auditor_a": _person(system, "auditor_a", "Otto"),
        "outsider_c": _person(system, "outsider_c", "Oscar"),
        "admin": _person(system, "admin", "Ada", is_superuser=True),
    }
    grants = [
        (site_a, "guard_a", Role.GUARD),
        (site_a, "supervisor_a", Role.SUPERVISOR),
        (site_a, "manager_ab", Role.MANAGER),
        (site_b, "manager_ab", Role.MANAGER),
        (site_a, "auditor_a", Role.AUDITOR),
        (site_c, "outsider_c", Role.GUARD),
    ]
    for site, username, role in grants:
        sites.grant_membership(site, system, user=people[username], role=role, reason=why)
    return Personas(site_a, site_b, site_c, *zones, **people)
