"""`manage.py purge_expired [--apply]`: remove the records whose retention period has passed.

A dry run by default: prints what would go, per site and kind, and removes nothing. With
`--apply` it removes them, each record in its own transaction, leaving a tombstone in the
audit ledger for every row removed. Every run (dry or not) is recorded for the auditors.
With `--enqueue` it only queues the run for the task worker (docs/deploy.md).
Exit 0 when the run completed; non-zero with the reason when it stopped.
"""

from django.core.management.base import CommandError

from facility_log import tasks
from facility_log.management.base import AuditedCommand, enqueue_option, report_enqueued
from facility_log.services.accounts import system_actor
from facility_log.services.retention import purge_expired
from facility_log.services.retention_plans import Tally


class Command(AuditedCommand):
    help = "Remove records older than their site's retention period (dry run unless --apply)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--apply",
            action="store_true",
            help="remove the expired records (without it: only show what would go)",
        )
        enqueue_option(parser)

    def handle(self, *args, apply=False, enqueue=False, **options):
        if enqueue:
            queued = tasks.enqueue_once(tasks.purge_expired_records, apply)
            report_enqueued(self, "purge_expired", *queued)
            return
        verb = "removed" if apply else "would remove"
        totals = {"records": 0, "rows": 0, "files": 0}

        def report(tally: Tally) -> None:
            for name in totals:
                totals[name] += getattr(tally, name)
            if not (tally.records or tally.rows or tally.held or tally.kept):
                return
            line = (
                f"{tally.site.code} {tally.kind} (kept {tally.days} days, before "
                f"{tally.cutoff:%Y-%m-%d %H:%M}Z): {verb} {tally.records} record(s), "
                f"{tally.rows} row(s), {tally.files} file(s)"
            )
            if tally.held:
                line += f"; {tally.held} on legal hold"
            if tally.kept:
                line += f"; {tally.kept} kept for incidents that still need them"
            self.stdout.write(line)

        try:
            run = purge_expired(system_actor(), apply=apply, on_tally=report)
        except Exception as error:
            raise CommandError(f"purge stopped: {type(error).__name__}: {error}") from error
        summary = (
            f"{'purge' if apply else 'dry run'} #{run.pk}: {verb} {totals['records']} "
            f"record(s), {totals['rows']} row(s), {totals['files']} file(s)."
        )
        if not apply:
            summary += " Nothing was removed; run with --apply to remove them."
        self.stdout.write(self.style.SUCCESS(summary))
