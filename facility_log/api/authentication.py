"""Token authentication against hashed keys (`Authorization: Token <key>`), and the session
authentication of the app's own pages (the tablet's outbox), which requires the second step
from those who must pass it."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from facility_log.models import ApiToken
from facility_log.models.accounts import hash_token
from facility_log.services import two_factor
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery

# The last-used stamp is written at most this often per token: a busy door controller would
# otherwise write its token row on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


# Read on every API call: compiled once per process (services/precompiled.py), planned once
# per connection (services/prepared.py).
_TOKEN = PreparedQuery(
    lambda _key, key_hash: (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .order_by()[:1]  # key_hash is unique: no ORDER BY
    ),
    {"key_hash": Slot("\x1fsentinel key hash\x1f", ApiToken._meta.get_field("key_hash"))},
)


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """Like DRF's TokenAuthentication, but the database holds only each key's SHA-256, so a
    leaked backup does not leak working credentials."""

    def authenticate_credentials(self, key):
        token = _TOKEN.first("token", key_hash=hash_token(key))
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
