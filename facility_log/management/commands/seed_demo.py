"""`manage.py seed_demo`: demo sites, zones and people, so a newcomer sees the product at
work. Safe to run again: what exists is left as it is."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from facility_log.demo.access import seed_access
from facility_log.demo.incidents import seed_incidents
from facility_log.demo.onsite import seed_onsite
from facility_log.demo.rounds import seed_rounds
from facility_log.demo.shifts import seed_shifts
from facility_log.management.base import AuditedCommand
from facility_log.models import Role, Site, Zone
from facility_log.services import accounts, sites, two_factor

DEMO_PASSWORD = "demo-password"
# The demo accounts that need two-factor sign-in (supervisor, manager, auditor, admin) share
# this published authenticator key: add it to any TOTP app, or print the current code with
# `oathtool --totp -b KEY` (README, "Security"). Like the password, demo only.
DEMO_TOTP_KEY_BASE32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
REASON = "demo data (manage.py seed_demo)"

SITES = [
    {
        "code": "HQ",
        "name": "Headquarters",
        "time_zone": "Europe/Berlin",
        "address": "1 Example Street, Berlin",
        "zones": ["Main entrance", "Loading dock", "Server room", "Roof", "Gate B", "Car park"],
    },
    {
        "code": "WH",
        "name": "Warehouse North",
        "time_zone": "Europe/Berlin",
        "address": "Industrial Estate 7, Potsdam",
        "zones": ["Gatehouse", "Yard", "Hall 1"],
    },
    {
        "code": "LAB",
        "name": "Research Lab",
        "time_zone": "America/New_York",
        "address": "200 Research Park, Boston",
        "zones": ["Lobby", "Clean room"],
    },
]

# username, first, last, superuser, [(site, role)]
PEOPLE = [
    ("admin", "Ada", "Admin", True, []),
    ("guard", "Gina", "Guard", False, [("HQ", Role.GUARD)]),
    ("supervisor", "Sam", "Supervisor", False, [("HQ", Role.SUPERVISOR)]),
    ("manager", "Mia", "Manager", False, [("HQ", Role.MANAGER), ("WH", Role.MANAGER)]),
    ("auditor", "Otto", "Auditor", False, [("HQ", Role.AUDITOR)]),
    ("lab-guard", "Lee", "Labguard", False, [("LAB", Role.GUARD)]),
]


class Command(AuditedCommand):
    help = "Create demo sites, zones and accounts (password 'demo-password'). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DEBUG off (creates accounts with a published password!)",
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a published password; it runs only with "
                "DEBUG=1 (or --force on a throwaway server)."
            )
        actor = accounts.system_actor()
        for spec in SITES:
            self._seed_site(actor, spec)
        for username, first, last, superuser, roles in PEOPLE:
            self._seed_person(actor, username, first, last, superuser, roles)
        self.stdout.write(seed_rounds(actor))
        seed_access(actor, REASON)
        seed_incidents(actor)
        self.stdout.write(seed_shifts(actor))
        self.stdout.write(seed_onsite(actor))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {Site.objects.count()} sites, sign in as admin, guard, supervisor, "
                f"manager, auditor or lab-guard with password {DEMO_PASSWORD!r}."
            )
        )
        self.stdout.write(
            "Two-factor sign-in (admin, supervisor, manager, auditor): authenticator key "
            f"{DEMO_TOTP_KEY_BASE32} (add it to a TOTP app, or run "
            f"`oathtool --totp -b {DEMO_TOTP_KEY_BASE32}`); the guards need none."
        )

    def _seed_site(self, actor, spec: dict) -> None:
        site = Site.objects.filter(code=spec["code"]).first()
        if site is None:
            site = sites.create_site(
                actor,
                code=spec["code"],
                name=spec["name"],
                time_zone=spec["time_zone"],
                address=spec["address"],
                reason=REASON,
            )
        existing = set(Zone.objects.filter(site=site).values_list("name", flat=True))
        for name in spec["zones"]:
            if name not in existing:
                sites.create_zone(site, actor, name=name, reason=REASON)

    def _seed_person(self, actor, username, first, last, superuser, roles) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            user = accounts.create_user(
                actor,
                username=username,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_superuser=superuser,
                reason=REASON,
            )
        for code, role in roles:
            sites.grant_membership(
                Site.objects.get(code=code), actor, user=user, role=role, reason=REASON
            )
        if two_factor.requires_two_factor(user) and not two_factor.has_authenticator(user):
            two_factor.add_known_authenticator(user, DEMO_TOTP_KEY_BASE32, name="demo key")
