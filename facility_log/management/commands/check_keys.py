"""`manage.py check_keys`: tell each site's supervisors and managers about keys (and key
sets) not returned by their expected time. Each overdue issue is told about once, however
often it runs; run it from cron every few minutes (with `--enqueue`, cron only queues the run
for the task worker: docs/deploy.md)."""

from facility_log import tasks
from facility_log.management.base import AuditedCommand, enqueue_option, report_enqueued
from facility_log.services.accounts import system_actor
from facility_log.services.periodic import notify_overdue_keys


class Command(AuditedCommand):
    help = "Notify supervisors and managers once about keys not returned in time."

    def add_arguments(self, parser):
        enqueue_option(parser)

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            report_enqueued(self, "check_keys", *tasks.enqueue_once(tasks.check_keys))
            return
        noticed = notify_overdue_keys(system_actor())
        for issue in noticed:
            self.stdout.write(f"{issue.site.code} {issue.what}: {issue.holder_text}")
        self.stdout.write(self.style.SUCCESS(f"{len(noticed)} overdue key issue(s) notified."))
