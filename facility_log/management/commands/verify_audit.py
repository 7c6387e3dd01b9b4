"""`manage.py verify_audit`: recompute the ledger chain and every digest.

Exit 0 with a one-line summary when intact; exit 1 naming the first broken entry and object.
An intact check leaves a signed checkpoint, so that `--since-checkpoint` (e.g. nightly) reads
only what came after it; `--full` (the default) re-reads everything.
"""

import re
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from facility_log.management.base import AuditedCommand
from facility_log.services.ledger_seal import Head, SealError, head_file_text, read_head_file
from facility_log.services.verify import verify_audit

HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(AuditedCommand):
    help = "Check the audit ledger against every history row; print the ledger head."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--full",
            action="store_true",
            help="re-read the whole ledger and every row (the default)",
        )
        mode.add_argument(
            "--since-checkpoint",
            action="store_true",
            help="check only what came after the last signed checkpoint (full when none)",
        )
        parser.add_argument(
            "--expect-head",
            metavar="FILE_OR_SEQ:HASH",
            help="a head file (or SEQ:HASH) kept outside the server: catches a rewritten chain",
        )
        parser.add_argument(
            "--head-file",
            metavar="FILE",
            help="after an intact check, write the head as a small signed text file to keep",
        )
        parser.add_argument(
            "--no-checkpoint",
            action="store_true",
            help="do not record a checkpoint after an intact check",
        )

    def handle(self, *args, **options):
        expected = self._expected_head(options["expect_head"])
        result = verify_audit(
            expected,
            since_checkpoint=options["since_checkpoint"],
            record_checkpoint=not options["no_checkpoint"],
        )
        seq, head = result.head
        scope = f"since checkpoint #{result.since}" if result.since is not None else "full"
        if not result.intact:
            first = result.problems[0]
            raise CommandError(
                f"ledger BROKEN: {first} ({len(result.problems)} problem(s) in all; "
                f"{result.entries} entries checked ({scope}); head {seq}:{head})"
            )
        self.stdout.write(
            f"ledger intact: {result.entries} entries checked ({scope}); head {seq}:{head}"
        )
        if options["head_file"]:
            text = head_file_text(Head(seq, head, timezone.now()))
            Path(options["head_file"]).write_text(text, encoding="utf-8")
            self.stdout.write(f"head written to {options['head_file']}")

    def _expected_head(self, value: str | None) -> tuple[int, str] | None:
        if not value:
            return None
        match = HEAD.match(value.strip())
        if match:
            return int(match.group(1)), match.group(2)
        path = Path(value)
        if not path.is_file():
            raise CommandError(
                "--expect-head takes a head file written by --head-file, or 1234:<64 hex "
                f"characters>; {value!r} is neither."
            )
        try:
            head = read_head_file(path.read_text(encoding="utf-8"))
        except (SealError, UnicodeDecodeError) as error:
            raise CommandError(f"--expect-head {value}: {error}") from error
        return head.seq, head.hash
