"""What every facility_log command shares: one request id per run, so each history row a
command writes can be traced back to that run; and a one-line message, not a traceback, when
the database or the disk fails under it (the README promises one line and a non-zero exit)."""

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError

from facility_log.services.audit import request_id_scope


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class OneLineErrorsCommand(BaseCommand):
    """A command whose operational failures (the database gone or timing out, a disk full or
    a file missing) end in one line on stderr and exit code 1 through Django's CommandError;
    `--traceback` still shows the whole trace. Programming errors keep their traceback."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except (OperationalError, InterfaceError) as error:
            raise CommandError(
                f"The database failed ({first_line(error)}). What was committed before stays; "
                "run the command again once the database is back."
            ) from error
        except OSError as error:
            raise CommandError(f"{first_line(error)}") from error


class AuditedCommand(OneLineErrorsCommand):
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
