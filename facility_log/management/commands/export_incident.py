"""`manage.py export_incident NUMBER --recipient ... --reason ... [--out DIR]`: write the
police package NUMBER-disclosure-ID.zip and print its path. Recorded in the disclosure log;
ID is the disclosure's, so two exports of one incident (at once or not) never overwrite each
other and each file matches its own line of the disclosure log."""

import os
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from facility_log.management.base import AuditedCommand
from facility_log.models.incidents import Incident
from facility_log.services.accounts import system_actor
from facility_log.services.incident_package import write_incident_package


class Command(AuditedCommand):
    help = "Export an incident as a police package (zip) and record the disclosure."

    def add_arguments(self, parser):
        parser.add_argument("number", help="e.g. HQ-2026-0042")
        parser.add_argument("--recipient", required=True, help="agency or organisation")
        parser.add_argument("--reason", required=True, help="why it is disclosed")
        parser.add_argument("--case-number", default="", help="the recipient's case number")
        parser.add_argument(
            "--redact",
            action="store_true",
            help="leave out contact details and statements of named persons",
        )
        parser.add_argument("--out", default=".", help="folder for NUMBER-disclosure-ID.zip")
        parser.add_argument("--by", help="username of the person exporting (default: system)")

    def handle(self, *args, number, recipient, reason, case_number, redact, out, by, **options):
        incident = Incident.objects.select_related("site").filter(number=number).first()
        if incident is None:
            raise CommandError(f"No incident numbered {number!r}.")
        actor = self._actor(by)
        folder = Path(out)
        if not folder.is_dir():
            raise CommandError(f"--out {out!r} is not a folder.")
        try:
            path = self._write(folder, incident, actor, recipient, reason, case_number, redact)
        except (PermissionDenied, ValidationError) as error:
            raise CommandError("; ".join(getattr(error, "messages", [str(error)]))) from error
        self.stdout.write(str(path))

    def _write(self, folder: Path, incident, actor, recipient, reason, case_number, redact):
        """Stream the package into a temporary file in `folder` and rename it when complete:
        the zip is never half-written, and a failed export leaves nothing behind. Like the
        download, it holds personal data: readable by the exporting account only (0600)."""
        part = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed or removed below)
            dir=folder, prefix=f".{incident.number}.", suffix=".part", delete=False
        )
        try:
            with part:
                disclosure = write_incident_package(
                    incident,
                    actor,
                    part,
                    recipient=recipient,
                    reason=reason,
                    case_number=case_number,
                    redact=redact,
                )
                part.flush()
                os.fsync(part.fileno())
            path = folder / f"{incident.number}-disclosure-{disclosure.pk}.zip"
            # A link, not a rename: it fails rather than replace a file already there.
            os.link(part.name, path)
        finally:
            Path(part.name).unlink(missing_ok=True)
        return path

    def _actor(self, username):
        if not username:
            return system_actor()
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        return user
