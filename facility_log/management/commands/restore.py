"""`manage.py restore DIR`: check a backup against its signed manifest, ask, put the files
back, then the database, and verify the ledger of the result (docs/operations.md).

Stop the application servers and the worker first: a restore replaces the whole database."""

import sqlite3
import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.db import DatabaseError

from facility_log.management.base import AuditedCommand
from facility_log.services.backup import BackupError, first_line
from facility_log.services.backup.archive import restore_backup


class Command(AuditedCommand):
    help = "Restore a backup made by `backup` over this installation's database and storage."
    # The database may be empty or from an older release until the restore is done.
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("folder", metavar="DIR", help="a folder written by `backup --out`")
        parser.add_argument(
            "--yes", action="store_true", help="overwrite without asking (for scripts)"
        )

    def handle(self, *args, **options):
        try:
            result = restore_backup(Path(options["folder"]), self._confirm(options["yes"]))
        except BackupError as error:
            raise CommandError(str(error)) from error
        except (OSError, DatabaseError, sqlite3.Error) as error:
            # A full disk, a database gone away: still one line, not a traceback.
            raise CommandError(f"restore failed: {first_line(error)}") from error
        seq, head = result.head
        self.stdout.write(
            f"restored: {result.files_written} file(s) written; ledger intact, "
            f"{result.entries} entries checked; head {seq}:{head}"
        )

    def _confirm(self, yes: bool):
        def confirm(question: str) -> bool:
            if yes:
                return True
            if not sys.stdin.isatty():
                raise BackupError(
                    "refused: the database is not empty; run in a terminal to confirm, "
                    "or pass --yes"
                )
            self.stdout.write(question)
            return input("Type 'yes' to overwrite: ").strip().lower() == "yes"

        return confirm
