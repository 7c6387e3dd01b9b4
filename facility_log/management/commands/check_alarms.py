"""`manage.py check_alarms`: escalate alarms nobody acknowledged in time, by email to the
site's supervisors and managers. Each alarm is escalated once; run it from cron every minute."""

from facility_log.management.base import AuditedCommand
from facility_log.services.access import alarms_to_escalate, escalate_alarm
from facility_log.services.accounts import system_actor


class Command(AuditedCommand):
    help = "Email supervisors and managers about alarms still unacknowledged after N minutes."

    def handle(self, *args, **options):
        actor = system_actor()
        due = alarms_to_escalate()
        for alarm in due:
            recipients = escalate_alarm(alarm, actor)
            who = ", ".join(recipients) or "nobody (no supervisor or manager has an email)"
            where = alarm.door.code if alarm.door_id else "panic button"
            self.stdout.write(f"alarm #{alarm.pk} {alarm.site.code} {where}: {who}")
        self.stdout.write(self.style.SUCCESS(f"{len(due)} alarm(s) escalated."))
