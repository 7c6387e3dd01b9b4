"""`manage.py check_rounds`: run by cron every minute. Records missed rounds and overdue runs
(each once, however often it runs) and tells each site's supervisors what is new (in the
app, and by email to those who want it). With
`--enqueue` it only queues the run for the task worker (several servers: docs/deploy.md)."""

from django.core.management.base import CommandError

from facility_log import tasks
from facility_log.management.base import AuditedCommand, enqueue_option, report_enqueued
from facility_log.services.accounts import system_actor
from facility_log.services.periodic import check_rounds_and_notify


class Command(AuditedCommand):
    help = "Record missed rounds and overdue runs once each and email the site's supervisors."

    def add_arguments(self, parser):
        enqueue_option(parser)

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            report_enqueued(self, "check_rounds", *tasks.enqueue_once(tasks.check_rounds))
            return
        result = check_rounds_and_notify(system_actor())
        self.stdout.write(f"check_rounds: {result.recorded} new exception(s).")
        if result.failed_sites:
            raise CommandError(
                f"Recorded {result.recorded} exception(s), but the email to the supervisors of "
                f"{', '.join(result.failed_sites)} could not be sent; see the live view."
            )
