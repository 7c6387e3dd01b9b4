"""`manage.py check_rounds`: run by cron every minute. Records missed rounds and overdue runs
(each once, however often it runs) and emails each site's supervisors what is new."""

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import CommandError

from facility_log.management.base import AuditedCommand
from facility_log.models import Membership, Role
from facility_log.services import rounds
from facility_log.services.accounts import system_actor


class Command(AuditedCommand):
    help = "Record missed rounds and overdue runs once each and email the site's supervisors."

    def handle(self, *args, **options):
        recorded = rounds.check_rounds(system_actor())
        by_site = defaultdict(list)
        for exception in recorded:
            by_site[exception.site].append(exception)
        failed = [site.code for site, found in by_site.items() if not self._notify(site, found)]
        self.stdout.write(f"check_rounds: {len(recorded)} new exception(s).")
        if failed:
            raise CommandError(
                f"Recorded {len(recorded)} exception(s), but the email to the supervisors of "
                f"{', '.join(failed)} could not be sent; see the live view."
            )

    def _notify(self, site, exceptions) -> bool:
        emails = sorted(
            Membership.objects.filter(site=site, role=Role.SUPERVISOR, is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
        if not emails:
            return True
        lines = [f"- {e.get_kind_display()}: {e.detail}" for e in exceptions]
        try:
            send_mail(
                f"[facility_log] {site.code}: {len(exceptions)} round exception(s)",
                "\n".join(lines),
                settings.DEFAULT_FROM_EMAIL,
                emails,
            )
        except OSError as error:
            self.stderr.write(f"email to {site.code} supervisors failed: {error}")
            return False
        return True
