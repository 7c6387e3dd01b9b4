"""`manage.py check_lone_workers`: raise an alarm for each check-in a guard working alone
missed (due time + grace passed, no check-in), each exactly once, and tell the site's
supervisors and managers at once. Run it from cron every minute, beside `check_alarms` (with
`--enqueue`, cron only queues the run for the task worker: docs/deploy.md)."""

from facility_log import tasks
from facility_log.management.base import AuditedCommand, enqueue_option, report_enqueued
from facility_log.services.accounts import system_actor
from facility_log.services.periodic import check_lone_workers


class Command(AuditedCommand):
    help = "Raise an alarm for each missed lone-worker check-in (each once)."

    def add_arguments(self, parser):
        enqueue_option(parser)

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            report_enqueued(
                self, "check_lone_workers", *tasks.enqueue_once(tasks.check_lone_worker_check_ins)
            )
            return
        raised = check_lone_workers(system_actor())
        for alarm in raised:
            self.stdout.write(f"alarm #{alarm.pk} {alarm.site.code}: {alarm.where}")
        self.stdout.write(self.style.SUCCESS(f"{len(raised)} missed check-in(s) raised."))
