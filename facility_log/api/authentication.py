"""Token authentication against hashed keys (`Authorization: Token <key>`), and the session
authentication of the app's own pages (the tablet's outbox), which requires the second step
from those who must pass it."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from facility_log.models import ApiToken, Membership
from facility_log.models.accounts import hash_token
from facility_log.scoping import remember_memberships
from facility_log.services import read_together, two_factor
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

# The last-used stamp is written at most this often per token: a busy door controller would
# otherwise write its token row on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


# Read on every API call: compiled once per process (services/precompiled.py), planned once
# per connection (services/prepared.py).
_KEY_HASH = {"key_hash": Slot("\x1fsentinel key hash\x1f", ApiToken._meta.get_field("key_hash"))}
_TOKEN = PreparedQuery(
    lambda _key, key_hash: (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .order_by()[:1]  # key_hash is unique: no ORDER BY
    ),
    _KEY_HASH,
)
# The active memberships of the key's holder, as scoping.active_memberships reads them (same
# columns, same order): nearly every API call reads them next. Sent with the token's read, in
# the same round trip on PostgreSQL, and kept for the request only once the token is found
# good. (key_hash is unique: at most one token joins, no row is repeated.)
_MEMBERSHIPS = PreparedQuery(
    lambda _key, key_hash: Membership.objects.filter(
        user__api_tokens__key_hash=key_hash, is_active=True
    ).values("site_id", "role"),
    _KEY_HASH,
)


def _token_and_memberships(key_hash: str, using: str = "default"):
    """(the token or None, its holder's memberships or None): on PostgreSQL both in one
    round trip; elsewhere the token alone (the memberships are read when first needed)."""
    if not read_together.one_trip(using):
        return _TOKEN.first("token", using=using, key_hash=key_hash), None
    statements = {
        "token": _TOKEN.statement("token", using=using, key_hash=key_hash),
        "memberships": _MEMBERSHIPS.statement("memberships", using=using, key_hash=key_hash),
    }
    fetched, _none = read_together.fetch(statements, using)
    tokens = PrecompiledQuery.instances_of(statements["token"][0], fetched["token"], using)
    rows = PrecompiledQuery.rows_of(statements["memberships"][0], fetched["memberships"])
    return (tokens[0] if tokens else None), [(row["site_id"], row["role"]) for row in rows]


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """Like DRF's TokenAuthentication, but the database holds only each key's SHA-256, so a
    leaked backup does not leak working credentials."""

    def authenticate_credentials(self, key):
        token, memberships = _token_and_memberships(hash_token(key))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's account is deactivated.")
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                f"The token expired at {token.expires_at.isoformat()}; ask for a new one."
            )
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            token.mark_used(now)
        if memberships is not None:
            remember_memberships(token.user, memberships)
        return (token.user, token)


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, refusing a session that has not passed the second step
    when its user must (otherwise the API would be a way around it)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = request._request.user
        if not user.is_verified() and two_factor.requires_two_factor(user):
            raise exceptions.AuthenticationFailed(
                "Two-factor sign-in is required for this account: finish signing in on the "
                "web page first."
            )
        return result


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "facility_log.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`, from `manage.py issue_token USERNAME`.",
        }


class VerifiedSessionScheme(SessionScheme):
    """The schema describes the verified session as the session cookie it is."""

    target_class = "facility_log.api.authentication.VerifiedSessionAuthentication"
