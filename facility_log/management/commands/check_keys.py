"""`manage.py check_keys`: tell each site's supervisors and managers about keys (and key
sets) not returned by their expected time. Each overdue issue is told about once, however
often it runs; run it from cron every few minutes."""

from facility_log.management.base import AuditedCommand
from facility_log.services.accounts import system_actor
from facility_log.services.periodic import notify_overdue_keys


class Command(AuditedCommand):
    help = "Notify supervisors and managers once about keys not returned in time."

    def handle(self, *args, **options):
        noticed = notify_overdue_keys(system_actor())
        for issue in noticed:
            self.stdout.write(f"{issue.site.code} {issue.what}: {issue.holder_text}")
        self.stdout.write(self.style.SUCCESS(f"{len(noticed)} overdue key issue(s) notified."))
