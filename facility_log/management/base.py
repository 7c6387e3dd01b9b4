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


def enqueue_option(parser) -> None:
    """`--enqueue`: queue the run for `manage.py db_worker` instead of doing it here."""
    parser.add_argument(
        "--enqueue",
        action="store_true",
        help="only queue this run for the task worker (manage.py db_worker); a run already "
        "waiting is not queued twice",
    )


def report_enqueued(command: BaseCommand, name: str, result, queued: bool) -> None:
    if queued:
        command.stdout.write(f"{name}: queued for the worker (task {result.id}).")
    else:
        command.stdout.write(f"{name}: a run is already waiting for the worker (task {result.id}).")
