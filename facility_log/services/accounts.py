"""User accounts and API tokens. Accounts are deactivated, never deleted: history rows point
at them and keep naming who did what."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from facility_log.models import ApiToken, LanguagePreference
from facility_log.models.accounts import TOKEN_PREFIX_LENGTH, hash_token
from facility_log.services.audit import audited_change

User = get_user_model()

# The session key holding the signed-in person's chosen language: put there at sign-in and
# when the choice changes, so that no request pays a query to find it (UserLanguageMiddleware).
LANGUAGE_SESSION_KEY = "facility_log_language"


def system_actor() -> AbstractBaseUser:
    """The account that commands act as when no person is at the keyboard (cron jobs, the
    demo seeder). It cannot log in: its password is unusable and it is not active."""
    username = settings.FACILITY_LOG["SYSTEM_USERNAME"]
    user = User.objects.filter(username=username).first()
    if user is None:
        with audited_change(None, "system account created on first use"):
            user = User(username=username, first_name="facility_log", last_name="system")
            user.set_unusable_password()
            # Unrestricted (it seeds sites, escalates alarms) but never able to sign in.
            user.is_active = False
            user.is_superuser = True
            user.save()
    return user


def create_user(
    actor: AbstractBaseUser | None,
    *,
    username: str,
    password: str | None,
    reason: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    is_superuser: bool = False,
) -> AbstractBaseUser:
    """Create a person's account. Only a superuser (or a command acting as the system) may."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("Only an administrator can create accounts.")
    with audited_change(actor, reason):
        user = User(username=username, first_name=first_name, last_name=last_name, email=email)
        user.is_superuser = user.is_staff = is_superuser
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
    return user


def deactivate_user(user: AbstractBaseUser, actor: AbstractBaseUser, *, reason: str) -> None:
    """Stop an account from signing in; its history and records stay attributed to it."""
    if not actor.is_superuser:
        raise PermissionDenied("Only an administrator can deactivate accounts.")
    with audited_change(actor, reason):
        user.is_active = False
        user.save()
        for token in user.api_tokens.filter(revoked_at__isnull=True):
            token.revoked_at = timezone.now()
            token.save()


def issue_api_token(
    user: AbstractBaseUser, actor: AbstractBaseUser | None, *, reason: str
) -> tuple[ApiToken, str]:
    """Create a token for `user`. Returns the record and the key; the key is not stored and
    cannot be shown again."""
    if not user.is_active:
        raise PermissionDenied(f"{user.get_username()} is deactivated; it cannot get a token.")
    key = ApiToken.generate_key()
    days = settings.FACILITY_LOG["API_TOKEN_LIFETIME_DAYS"]
    expires_at = timezone.now() + timedelta(days=days) if days > 0 else None
    with audited_change(actor, reason):
        token = ApiToken.objects.create(
            user=user,
            prefix=key[:TOKEN_PREFIX_LENGTH],
            key_hash=hash_token(key),
            expires_at=expires_at,
        )
    return token, key


def revoke_api_token(token: ApiToken, actor: AbstractBaseUser | None, *, reason: str) -> None:
    """Make a token stop working. The row stays so its history shows when and why."""
    with audited_change(actor, reason):
        token.revoked_at = timezone.now()
        token.save()


def chosen_language(user: AbstractBaseUser) -> str | None:
    """The language `user` chose for the pages, or None to follow the browser."""
    choice = LanguagePreference.objects.filter(user=user).first()
    return choice.language if choice else None


def set_language(user: AbstractBaseUser, language: str, session=None) -> None:
    """Record `user`'s choice of language (a history row when it changes) and, given the
    signed-in session, apply it from the next page on. An empty `language` goes back to
    following the browser (the choice row is kept, emptied, so its history stays whole)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(f"language: {language!r} is not one of the pages' languages")
    choice = LanguagePreference.objects.filter(user=user).first()
    if choice is None or choice.language != language:
        with audited_change(user, "language changed"):
            choice = choice or LanguagePreference(user=user)
            choice.language = language
            choice.save()
    if session is not None:
        remember_language(session, language)


def remember_language(session, language: str | None) -> None:
    """Keep `language` in the session for UserLanguageMiddleware (none: follow the browser)."""
    if language:
        session[LANGUAGE_SESSION_KEY] = language
    else:
        session.pop(LANGUAGE_SESSION_KEY, None)
