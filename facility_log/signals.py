"""Receivers that keep the audit trail complete."""

import logging

from axes.helpers import get_client_ip_address
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from facility_log.models import LedgerEntry
from facility_log.models.base import AppendOnlyModel
from facility_log.services import accounts, ledger
from facility_log.services.audit import current_audit, current_request_id, process_description


def _request_reason() -> str | None:
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        return None
    return f"no reason given; {request.method} {request.path}"


@receiver(pre_create_historical_record)
def stamp_history_row(sender, instance, history_instance, **kwargs):
    """Fill in who, why and which request on every history row before it is written.

    The service's context wins over the request's user; an explicit per-object reason
    (`instance._change_reason`) wins over the context's reason. A row never goes without a
    reason: when none was given, it names the request or the command that made it.
    """
    context = current_audit()
    if context is not None and not hasattr(instance, "_history_user"):
        history_instance.history_user = context.actor
    if not getattr(instance, "_change_reason", None):
        history_instance.history_change_reason = (
            context.reason if context else (_request_reason() or process_description())
        )
    user = history_instance.history_user
    history_instance.history_user_name = user.get_username() if user else ""
    history_instance.history_request_id = current_request_id()


@receiver(post_create_historical_record)
def chain_history_row(sender, history_instance, **kwargs):
    """Every history row gets its ledger entry in the same transaction."""
    ledger.record_history_row(history_instance)


@receiver(post_save)
def chain_append_only_row(sender, instance, created, raw=False, **kwargs):
    """Append-only records saved one by one (scans, supplements) get their own entry; those
    written in bulk are chained per batch by the service that writes them."""
    if raw or not created or not issubclass(sender, AppendOnlyModel) or sender is LedgerEntry:
        return
    if getattr(sender, "ledger_per_row", True):
        context = current_audit()
        ledger.record_append_only_row(instance, actor=context.actor if context else None)


def record_login_time(sender, user, **kwargs):
    """Django's own last-login update, without a history row per login: logins are not
    changes to the account (and the login page is not where a reason can be given)."""
    user.last_login = timezone.now()
    user.skip_history_when_saving = True
    try:
        user.save(update_fields=["last_login"])
    finally:
        del user.skip_history_when_saving


@receiver(user_logged_in, dispatch_uid="facility_log_apply_language")
def apply_chosen_language(sender, request, user, **kwargs):
    """From sign-in on, the pages speak the language the person chose (if any)."""
    if request is not None and hasattr(request, "session"):
        accounts.remember_language(request.session, accounts.chosen_language(user))


user_logged_in.disconnect(dispatch_uid="update_last_login")
user_logged_in.connect(record_login_time, dispatch_uid="facility_log_record_login_time")


_auth_log = logging.getLogger("facility_log.auth")


@receiver(user_login_failed)
def log_failed_sign_in(sender, credentials, request=None, **kwargs):
    """Every wrong password is logged with the username tried and the address it came from
    (the paused ones, by views/sign_in.py). The password never is."""
    _auth_log.warning(
        "sign-in failed: username=%r address=%s path=%s",
        credentials.get("username", ""),
        get_client_ip_address(request) if request is not None else "-",
        request.path if request is not None else "-",
    )
