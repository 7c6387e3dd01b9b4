"""Token authentication against hashed keys (`Authorization: Token <key>`)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from facility_log.models import ApiToken
from facility_log.models.accounts import hash_token


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """Like DRF's TokenAuthentication, but the database holds only each key's SHA-256, so a
    leaked backup does not leak working credentials."""

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_token(key), revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's account is deactivated.")
        return (token.user, token)


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
