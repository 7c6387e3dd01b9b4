"""`manage.py issue_token USERNAME`: create an API token and print it (once)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from facility_log.management.base import AuditedCommand
from facility_log.services.accounts import issue_api_token, system_actor


class Command(AuditedCommand):
    help = "Create an API token for USERNAME and print it. The key is not stored; keep it."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--reason",
            default="token issued with manage.py issue_token",
            help="why the token is issued (kept in the history)",
        )

    def handle(self, *args, username, reason, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            _token, key = issue_api_token(user, system_actor(), reason=reason)
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        self.stdout.write(key)
