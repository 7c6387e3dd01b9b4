"""`manage.py check_alarms`: escalate alarms nobody acknowledged in time, by email to the
site's supervisors and managers. Each alarm is escalated once; run it from cron every minute
(with `--enqueue`, cron only queues the run for the task worker: docs/deploy.md)."""

from facility_log import tasks
from facility_log.management.base import AuditedCommand, enqueue_option, report_enqueued
from facility_log.services.accounts import system_actor
from facility_log.services.periodic import escalate_due_alarms


class Command(AuditedCommand):
    help = "Email supervisors and managers about alarms still unacknowledged after N minutes."

    def add_arguments(self, parser):
        enqueue_option(parser)

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            report_enqueued(self, "check_alarms", *tasks.enqueue_once(tasks.check_alarms))
            return
        escalated = escalate_due_alarms(system_actor())
        for alarm, recipients in escalated:
            who = ", ".join(recipients) or "nobody (no supervisor or manager has an email)"
            self.stdout.write(f"alarm #{alarm.pk} {alarm.site.code} {alarm.source_label}: {who}")
        self.stdout.write(self.style.SUCCESS(f"{len(escalated)} alarm(s) escalated."))
