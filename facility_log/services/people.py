"""People at a site, managed from its pages: invite someone by email, give and end roles,
deactivate an account that only the manager's own sites use.

A manager creates accounts only by inviting them to one of their sites with a role: the account
has no password until its owner sets one through the emailed link (valid for
`PASSWORD_RESET_TIMEOUT`, Django's default three days). Every step is audited with a reason.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from facility_log.models import Membership, Role, Site
from facility_log.scoping import MANAGE_ROLES, require_role, site_id_list
from facility_log.services.audit import audited_change
from facility_log.services.sites import grant_membership

User = get_user_model()


def set_password_link(user: AbstractBaseUser) -> str:
    """The full URL where `user` chooses their password (one use; expires)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("set-password", args=[uid, token])


def invite_user(
    site: Site,
    actor: AbstractBaseUser,
    *,
    email: str,
    username: str,
    first_name: str,
    last_name: str,
    role: str,
    reason: str,
) -> AbstractBaseUser:
    """Create an account with no password and a role at `site`, and email its owner the link
    to set a password once the transaction commits. The site's managers only."""
    require_role(actor, site, MANAGE_ROLES)
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": "Someone already has an account with this address: give them a role."}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "This username is taken."})
    with audited_change(actor, reason):
        user = User(username=username, first_name=first_name, last_name=last_name, email=email)
        user.set_unusable_password()
        user.full_clean()
        user.save()
        grant_membership(site, actor, user=user, role=role, reason=reason)
        transaction.on_commit(lambda: _send_invitation(user, site, actor, role), robust=True)
    return user


def _send_invitation(user, site: Site, actor, role: str) -> None:
    inviter = actor.get_full_name() or actor.get_username()
    send_mail(
        f"[facility_log] You are invited to {site.name} ({site.code})",
        f"{inviter} invited you to facility_log as {Role(role).label.lower()} at {site.name}.\n\n"
        f"Your username: {user.get_username()}\n"
        f"Choose your password here (the link works once and expires):\n"
        f"{set_password_link(user)}\n",
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )


def resend_invitation(site: Site, actor: AbstractBaseUser, membership: Membership) -> None:
    """Email the set-password link again (the person has not chosen a password yet)."""
    require_role(actor, site, MANAGE_ROLES)
    user = membership.user
    if user.has_usable_password():
        raise ValidationError("This person has already chosen a password.")
    if not user.email:
        raise ValidationError("This person has no email address.")
    _send_invitation(user, site, actor, membership.role)


def give_role(
    site: Site, actor: AbstractBaseUser, *, username: str, role: str, reason: str
) -> Membership:
    """Give an existing, active account a role at `site`, found by its exact username."""
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise ValidationError({"username": "No account with this username: invite them."})
    return grant_membership(site, actor, user=user, role=role, reason=reason)


def may_deactivate(actor: AbstractBaseUser, user: AbstractBaseUser) -> bool:
    """A manager deactivates an account only when every role it holds is at a site they
    manage (so no other site loses a person without its own manager deciding)."""
    if actor.pk == user.pk or user.is_superuser:
        return False
    if actor.is_superuser:
        return True
    held = set(
        Membership.objects.filter(user=user, is_active=True).values_list("site_id", flat=True)
    )
    return bool(held) and held <= set(site_id_list(actor, MANAGE_ROLES))


def deactivate_member(user: AbstractBaseUser, actor: AbstractBaseUser, *, reason: str) -> None:
    """Stop the account from signing in and end its roles; records stay attributed to it."""
    if not may_deactivate(actor, user):
        raise PermissionDenied(
            "This account holds roles at sites you do not manage (or is your own): "
            "ask an administrator."
        )
    with audited_change(actor, reason):
        for membership in Membership.objects.filter(user=user, is_active=True):
            membership.is_active = False
            membership.save()
        user.is_active = False
        user.save()
        for token in user.api_tokens.filter(revoked_at__isnull=True):
            token.revoked_at = timezone.now()
            token.save()
