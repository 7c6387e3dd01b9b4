"""What every facility_log command shares: one request id per run, so each history row a
command writes can be traced back to that run."""

import uuid

from django.core.management.base import BaseCommand

from facility_log.services.audit import request_id_scope


class AuditedCommand(BaseCommand):
    def execute(self, *args, **options):
        with request_id_scope(f"cmd-{self.command_name()}-{uuid.uuid4().hex[:12]}"):
            return super().execute(*args, **options)

    def command_name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]
