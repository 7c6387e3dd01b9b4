"""Two-factor sign-in (django-otp): who must use it, enrolment, recovery codes.

Supervisors, managers, auditors and staff (the admin site) sign in with a password *and* a
code from an authenticator app (TOTP); guards may, but need not (a shared tablet has no one
phone). Recovery codes are django-otp's static tokens: ten single-use codes, shown once.

API tokens are not touched: an integration's token is issued by an administrator
(`issue_token`) and is itself the second secret.
"""

import logging
import secrets
from base64 import b32decode

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from facility_log.models import Role
from facility_log.scoping import active_memberships

logger = logging.getLogger("facility_log.auth")

# Roles whose holders must pass the second step: they approve, export and read everything.
TWO_FACTOR_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.AUDITOR})
RECOVERY_CODE_COUNT = 10
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def requires_two_factor(user: AbstractBaseUser) -> bool:
    """True when `user` may not use pages (or the API with a session) until verified."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return any(role in TWO_FACTOR_ROLES for _site, role in active_memberships(user))


def has_authenticator(user: AbstractBaseUser) -> bool:
    """True once `user` has confirmed an authenticator app."""
    return user_has_device(user, confirmed=True)


def start_totp_setup(user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed device being set up, made on the first visit and reused until
    confirmed, so reloading the page does not change the key the user is scanning."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def confirm_totp(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm `device` with a code from the app. On success: older authenticators of the
    user are removed, the session is verified, and fresh recovery codes are returned (shown
    once). None when the code is wrong."""
    if not device.verify_token(code.strip().replace(" ", "")):
        logger.warning("two-factor set-up code refused for %s", device.user.get_username())
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(device.user)
    otp_login(request, device)
    logger.info("two-factor authenticator confirmed for %s", device.user.get_username())
    return codes


def add_known_authenticator(user: AbstractBaseUser, key_base32: str, *, name: str) -> TOTPDevice:
    """A confirmed authenticator with a given key: for `seed_demo`'s published demo key only
    (a real one is made by `start_totp_setup` with a random key)."""
    return TOTPDevice.objects.create(
        user=user, name=name, confirmed=True, key=b32decode(key_base32).hex()
    )


def new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the user's recovery codes with ten new ones; the old ones stop working."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    logger.info("recovery codes issued for %s", user.get_username())
    return codes


def verify_second_step(request, code: str) -> bool:
    """Check a code from the authenticator app or a recovery code (used up by this) and mark
    the session verified. Wrong codes are logged; django-otp slows repeated guesses down."""
    user = request.user
    code = code.strip().replace(" ", "")
    for device in _devices(user, code):
        if device.verify_token(code):
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                logger.warning("recovery code used by %s", user.get_username())
            return True
    logger.warning("two-factor code refused for %s", user.get_username())
    return False


def reset_two_factor(user: AbstractBaseUser, *, reason: str) -> int:
    """Remove every authenticator and recovery code of `user` (a lost phone with no codes
    left); the next sign-in starts the set-up again. Returns how many devices went."""
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[1].get(TOTPDevice._meta.label, 0)
        static = StaticDevice.objects.filter(user=user)
        removed += static.count()
        static.delete()
    logger.warning("two-factor reset for %s: %s", user.get_username(), reason)
    return removed


def remaining_recovery_codes(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _devices(user, code: str):
    # Six digits come from the app; anything else is a recovery code. Trying only the one
    # kind keeps a recovery code from counting as a wrong guess against the app (and slowing
    # it down), and the other way round.
    if code.isdigit() and len(code) == 6:
        return TOTPDevice.objects.filter(user=user, confirmed=True)
    return StaticDevice.objects.filter(user=user, confirmed=True)


def _recovery_code() -> str:
    # 10 characters from 31 letters and digits without look-alikes (0/O, 1/l): 49 bits.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))
