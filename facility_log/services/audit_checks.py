"""Ledger verifications asked for on the audit page, run by the task worker, not in the
request: a check may read the whole ledger, and a page that re-verified on every POST let
anyone with the auditor role keep the database busy. One check runs at a time; a new one
starts only AUDIT_CHECK_INTERVAL seconds after the last was asked for; asking while one is
waiting or running shows that one."""

import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from facility_log.models import AuditCheck, LedgerEntry
from facility_log.services.audit import audited_change
from facility_log.services.ledger_seal import latest_checkpoint
from facility_log.services.verify import verify_audit

logger = logging.getLogger(__name__)

PROBLEMS_KEPT = 50


@dataclass(frozen=True)
class CheckRequest:
    check: AuditCheck
    started: bool  # False: an unfinished one was shown instead
    wait_seconds: int = 0  # > 0: refused, too soon after the last one


def latest_check() -> AuditCheck | None:
    return AuditCheck.objects.select_related("requested_by").first()


def request_audit_check(actor: AbstractBaseUser, scope: str) -> CheckRequest:
    """Queue a check (the caller enqueues it once this commits), or say why not: one is
    already waiting or running, or the last one was asked for too recently."""
    interval = settings.AUDIT_CHECK_INTERVAL
    with audited_change(actor, f"audit check asked for ({scope})"):
        # Serialises two auditors asking at once (the latest check's row is the lock).
        last = AuditCheck.objects.select_for_update().order_by("-requested_at", "-pk").first()
        if last is not None and last.status in AuditCheck.UNFINISHED:
            return CheckRequest(last, started=False)
        if last is not None:
            waited = (timezone.now() - last.requested_at).total_seconds()
            if waited < interval:
                return CheckRequest(last, started=False, wait_seconds=int(interval - waited) + 1)
        since = None
        if scope == AuditCheck.Scope.SINCE and (checkpoint := latest_checkpoint()) is not None:
            since = checkpoint.seq
        total = LedgerEntry.objects.filter(seq__gt=since or 0).count()
        check = AuditCheck.objects.create(
            requested_by=actor, scope=scope, since_seq=since, entries_total=total
        )
    return CheckRequest(check, started=True)


def _update(check: AuditCheck, reason: str, **values) -> None:
    with audited_change(check.requested_by, reason):
        for name, value in values.items():
            setattr(check, name, value)
        check.save()


class _Progress:
    """Saves the entries read so far. The check reads inside one read-only snapshot, so the
    worker saves progress from a thread of its own (its own connection, committed at once,
    seen by the page); inside a caller's transaction (tests) it saves in line."""

    def __init__(self, check: AuditCheck):
        self.check = check
        self.in_line = connection.in_atomic_block

    def __call__(self, entries: int) -> None:
        if self.in_line:
            _update(self.check, "audit check progress", entries_checked=entries)
            return
        thread = threading.Thread(target=self._save, args=(entries,))
        thread.start()
        thread.join()

    def _save(self, entries: int) -> None:
        try:
            fresh = AuditCheck.objects.select_related("requested_by").get(pk=self.check.pk)
            _update(fresh, "audit check progress", entries_checked=entries)
        except Exception:  # progress is shown, not needed: the check goes on
            logger.exception("could not save the progress of audit check %s", self.check.pk)
        finally:
            connection.close()


def run_audit_check(check: AuditCheck) -> AuditCheck:
    """Verify the ledger as asked (since the last checkpoint, or whole), leave a checkpoint
    when intact, and keep the outcome on the check."""
    if check.status != AuditCheck.Status.QUEUED:
        return check
    _update(check, "audit check started", status=AuditCheck.Status.RUNNING)
    try:
        result = verify_audit(
            since_checkpoint=check.scope == AuditCheck.Scope.SINCE,
            record_checkpoint=True,
            progress=_Progress(check),
        )
    except Exception as error:
        logger.exception("audit check %s failed", check.pk)
        _update(
            check,
            "audit check stopped",
            status=AuditCheck.Status.FAILED,
            finished_at=timezone.now(),
            message=f"The check stopped ({type(error).__name__}); ask for another.",
        )
        return check
    _update(
        check,
        "audit check finished",
        status=AuditCheck.Status.DONE,
        finished_at=timezone.now(),
        intact=result.intact,
        since_seq=result.since,
        entries_checked=result.entries,
        head_seq=result.head[0],
        head_hash=result.head[1],
        problems=[str(p) for p in result.problems[:PROBLEMS_KEPT]],
        problem_count=len(result.problems),
    )
    return check
