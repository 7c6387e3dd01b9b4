"""`manage.py verify_package FILE.zip`: check a police package offline (hashes, schema,
ledger linkage). Needs no database."""

from pathlib import Path

from django.core.management.base import CommandError

from facility_log.management.base import OneLineErrorsCommand
from facility_log.services.incident_package import verify_incident_package


class Command(OneLineErrorsCommand):
    help = "Check a police package: SHA256SUMS, manifest, incident.json schema, ledger entries."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        problems = verify_incident_package(path)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{file}: {len(problems)} problem(s); first: {problems[0]}")
        self.stdout.write(f"{file}: package intact (hashes, schema and ledger entries check out)")
