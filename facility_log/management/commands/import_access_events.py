"""`manage.py import_access_events FILE --site CODE --format FORMAT`: import a file of access
events. The whole file is checked first; one bad line refuses it with every bad line named."""

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from facility_log.management.base import AuditedCommand
from facility_log.models import ImportBatch, Site
from facility_log.services.access import IngestRefused
from facility_log.services.access_formats import FORMAT_SOURCE, READERS, open_text
from facility_log.services.access_ingest import ingest_events
from facility_log.services.accounts import system_actor


class Command(AuditedCommand):
    help = "Import access events from FILE into site CODE (all or nothing; duplicates skipped)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--site", required=True, help="the site's code, e.g. HQ")
        parser.add_argument("--format", required=True, choices=sorted(READERS), dest="fmt")
        parser.add_argument(
            "--site-time",
            action="store_true",
            help="read times without an offset in the site's time zone (else they are refused)",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=10000,
            help="print progress to stderr every N rows (0: never)",
        )

    def handle(self, *args, file, site, fmt, progress_every, site_time=False, **options):
        site_obj = Site.objects.filter(code=site).first()
        if site_obj is None:
            raise CommandError(f"No site with code {site!r}.")
        try:
            binary = open(file, "rb")  # noqa: SIM115 (closed below)
        except OSError as error:
            raise CommandError(f"Cannot open {file}: {error.strerror}.") from error
        with binary:
            result = self._import(site_obj, fmt, binary, file, progress_every, site_time)
        self.stdout.write(
            self.style.SUCCESS(
                f"{file}: {result.total} events read, {result.created} stored, "
                f"{result.duplicates} duplicates skipped, {result.alarms} alarms raised."
                + (f" {result.skipped_summary()}" if result.skipped else "")
            )
        )

    def _import(self, site, fmt, binary, file_name, every, site_time):
        rows = READERS[fmt](open_text(binary))
        try:
            return ingest_events(
                site,
                system_actor(),
                rows,
                channel=ImportBatch.Channel.FILE,
                vendor=FORMAT_SOURCE[fmt],
                file_name=file_name,
                progress=self._progress if every else None,
                progress_every=every or 1,
                site_time=site_time,
            )
        except IngestRefused as refused:
            lines = "\n".join(f"  {error}" for error in refused.errors)
            raise CommandError(
                f"{file_name} refused, nothing imported ({len(refused.errors)} bad "
                f"line(s)):\n{lines}"
            ) from refused
        except PermissionDenied as error:
            raise CommandError(str(error)) from error

    def _progress(self, phase: str, count: int, of: int | None) -> None:
        of_total = f" of {of}" if of else ""
        self.stderr.write(f"{phase} {count}{of_total} rows", style_func=str)
        self.stderr.flush()
