"""Who is acting, and why: the context every history row is stamped from.

A service wraps its work in `audited_change(actor, reason)`; the receiver in
`facility_log/signals.py` copies the actor, the actor's name, the reason and the request id
into every history row written inside it.
"""

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction


class MissingChangeReason(ValueError):
    """A change was attempted without saying why."""


@dataclass(frozen=True)
class AuditContext:
    actor: AbstractBaseUser | None
    reason: str


_audit: ContextVar[AuditContext | None] = ContextVar("facility_log_audit", default=None)
_request_id: ContextVar[str] = ContextVar("facility_log_request_id", default="")


def current_audit() -> AuditContext | None:
    return _audit.get()


@contextmanager
def audited_change(actor: AbstractBaseUser | None, reason: str) -> Iterator[AuditContext]:
    """Run the enclosed writes in one transaction, attributed to `actor` with `reason`."""
    reason = (reason or "").strip()
    if not reason:
        raise MissingChangeReason("A reason is required for every change.")
    context = AuditContext(actor=actor, reason=reason)
    token = _audit.set(context)
    try:
        with transaction.atomic():
            yield context
    finally:
        _audit.reset(token)


def current_request_id() -> str:
    return _request_id.get()


@contextmanager
def request_id_scope(request_id: str | None = None) -> Iterator[str]:
    """Tie every change inside to one id (an HTTP request, a command run)."""
    value = request_id or uuid.uuid4().hex
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


def process_description() -> str:
    """What to name as the reason when a change arrives with none (e.g. `createsuperuser`)."""
    program = os.path.basename(sys.argv[0]) if sys.argv else "python"
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    return f"no reason given; made by {program} {command}".strip()
