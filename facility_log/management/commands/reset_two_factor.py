"""`manage.py reset_two_factor USERNAME --reason …`: remove a person's authenticator and
recovery codes (a lost phone and no codes left); they set up a new one at the next sign-in."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from facility_log.management.base import AuditedCommand
from facility_log.services import two_factor


class Command(AuditedCommand):
    help = "Remove USERNAME's authenticator app and recovery codes (they set up new ones)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why (kept in the server's log)")

    def handle(self, *args, username, reason, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not reason.strip():
            raise CommandError("--reason must say why the second step is reset.")
        removed = two_factor.reset_two_factor(user, reason=reason)
        self.stdout.write(
            f"{username}: {removed} device(s) removed; a new authenticator is set up at the "
            "next sign-in."
        )
