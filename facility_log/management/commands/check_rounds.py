"""`manage.py check_rounds`: run by cron every minute. Records missed rounds and overdue runs
(each once, however often it runs) and tells each site's supervisors what is new (in the
app, and by email to those who want it)."""

from collections import defaultdict

from django.core.management.base import CommandError

from facility_log.management.base import AuditedCommand
from facility_log.services import notifications, rounds
from facility_log.services.accounts import system_actor
from facility_log.services.audit import audited_change


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
        """Tell the site's supervisors (in the app; by email to those who want it). False
        when an email could not be sent (the notice records why)."""
        with audited_change(system_actor(), "round exceptions noticed"):
            notices = notifications.missed_rounds(site, exceptions)
        return not any(notice.email_error for notice in notices)
