"""User accounts: Django's users (historical, deactivated never deleted) and API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from simple_history import register

from facility_log.models.base import AuditedHistoryBase, AuditedModel, audited_history

# Django's user is mutable and its changes (deactivation, staff flag, name) matter to an
# auditor, so it gets a history table of its own in this app. The password hash and the
# last-login stamp stay out of it.
register(
    get_user_model(),
    app="facility_log",
    bases=[AuditedHistoryBase],
    excluded_fields=["password", "last_login"],
    history_change_reason_field=models.TextField(null=True),
)
HistoricalUser = get_user_model().history.model

TOKEN_PREFIX_LENGTH = 8


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(AuditedModel):
    """A bearer token for an integration or a tablet. Only its SHA-256 is stored: the key is
    shown once, when `issue_token` creates it. Revoked, never deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    prefix = models.CharField(
        max_length=TOKEN_PREFIX_LENGTH, help_text="first characters, to tell tokens apart"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="refused from then on; empty: works until revoked"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The last-used stamp is not a change to the token (like a user's last login): it stays
    # out of the history, so using a token writes no history row and no ledger entry.
    history = audited_history(excluded_fields=["key_hash", "last_used_at"])

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)

    def mark_used(self, when) -> None:
        """Stamp the time of use, without a history row (see `history` above)."""
        self.last_used_at = when
        self.skip_history_when_saving = True
        try:
            self.save(update_fields=["last_used_at"])
        finally:
            del self.skip_history_when_saving


class LanguagePreference(AuditedModel):
    """The language a person chose for the pages (docs/translations.md). Without one, the
    browser's Accept-Language decides. Changes are kept in history like any other choice."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="language_choice"
    )
    # Empty: back to following the browser.
    language = models.CharField(max_length=10, blank=True, choices=settings.LANGUAGES)

    history = audited_history()

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
