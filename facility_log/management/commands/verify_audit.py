"""`manage.py verify_audit`: recompute the ledger chain and every digest.

Exit 0 with a one-line summary when intact; exit 1 naming the first broken entry and object.
"""

import re

from django.core.management.base import CommandError

from facility_log.management.base import AuditedCommand
from facility_log.services.verify import verify_audit

HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(AuditedCommand):
    help = "Check the audit ledger against every history row; print the ledger head."

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="SEQ:HASH",
            help="a head printed earlier and kept outside the server: catches a rewritten chain",
        )

    def handle(self, *args, expect_head=None, **options):
        expected = None
        if expect_head:
            match = HEAD.match(expect_head.strip())
            if not match:
                raise CommandError("--expect-head must look like 1234:<64 hex characters>.")
            expected = (int(match.group(1)), match.group(2))
        result = verify_audit(expected)
        seq, head = result.head
        if result.intact:
            self.stdout.write(f"ledger intact: {result.entries} entries; head {seq}:{head}")
            return
        first = result.problems[0]
        raise CommandError(
            f"ledger BROKEN: {first} ({len(result.problems)} problem(s) in all; "
            f"{result.entries} entries; head {seq}:{head})"
        )
