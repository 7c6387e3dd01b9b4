"""`manage.py move_database --to postgres://…`: move the whole database (ledger and history
included) into an empty PostgreSQL database and verify the copy (docs/operations.md).

Stop the application servers and the worker first; afterwards point DATABASE_URL at the new
database. The source is left as it was."""

import sqlite3

from django.core.management.base import CommandError
from django.db import DatabaseError

from facility_log.management.base import AuditedCommand
from facility_log.services.backup import BackupError, first_line
from facility_log.services.backup.move import move_database, redacted


class Command(AuditedCommand):
    help = "Copy the whole database into an empty PostgreSQL database and verify the copy."

    def add_arguments(self, parser):
        parser.add_argument(
            "--to", required=True, metavar="URL", help="postgres://user:pass@host:port/name"
        )

    def handle(self, *args, **options):
        try:
            report = move_database(options["to"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        except (OSError, DatabaseError, sqlite3.Error) as error:
            # A full disk, a database gone away: still one line, not a traceback.
            raise CommandError(f"move failed: {first_line(error)}") from error
        seq, head = report.head
        self.stdout.write(
            f"moved to {redacted(options['to'])}: {report.tables} tables, {report.rows} rows, "
            f"row counts match; ledger intact, {report.entries} entries checked; head {seq}:{head}"
        )
