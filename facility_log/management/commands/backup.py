"""`manage.py backup --out DIR`: the database, then the files it names, with a signed manifest
of SHA-256 sums (docs/operations.md). Safe while the application runs."""

import sqlite3
from pathlib import Path

from django.core.management.base import CommandError
from django.db import DatabaseError

from facility_log.management.base import AuditedCommand
from facility_log.services.backup import BackupError, first_line
from facility_log.services.backup.archive import make_backup


class Command(AuditedCommand):
    help = "Back up the database and the files it names into a new folder."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", required=True, metavar="DIR", help="a folder that does not exist yet"
        )

    def handle(self, *args, **options):
        try:
            result = make_backup(Path(options["out"]))
        except BackupError as error:
            raise CommandError(str(error)) from error
        except (OSError, DatabaseError, sqlite3.Error) as error:
            # A full disk, a database gone away: still one line, not a traceback.
            raise CommandError(f"backup failed: {first_line(error)}") from error
        head = f"{result.head[0]}:{result.head[1]}" if result.head else "empty ledger"
        self.stdout.write(
            f"backup written to {result.folder}: database and {result.files} file(s); "
            f"ledger head {head}"
        )
        if result.missing:
            self.stderr.write(
                f"warning: {len(result.missing)} file(s) named by the database were not in "
                f"storage (first: {result.missing[0]}); verify_audit reports them too"
            )
