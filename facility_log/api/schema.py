"""OpenAPI generation: every operation documents the errors it can answer with, and every
text the client sends is declared as the server reads it (no NUL characters)."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from facility_log.api.fields import RefuseUnknownFields

ERROR_BODY = {
    "type": "object",
    "description": "`detail` for general errors, or one list of messages per field name.",
    "additionalProperties": True,
}
ERRORS = {
    "400": "Invalid input: the body names each field and what is wrong with it.",
    "401": "No credentials, or a token that is invalid or revoked.",
    "403": "Signed in, but not allowed (e.g. a role too low at the site).",
    "404": "No such record (or site, for a `site` parameter) among the sites you hold a role at.",
    "409": "The record changed since the version sent, or its state does not allow this "
    "(e.g. a shift already ended); the body says what the server holds.",
    "415": "A body in a format this operation does not read (e.g. malformed multipart).",
    "422": "The request matches this schema but cannot be done as sent: it names a record "
    "that does not exist among your sites, breaks a rule the schema cannot state (an end "
    "before its start; a cardholder search without `site`), or reuses a `client_uuid` for "
    "different content. The body names the field; nothing was stored.",
}
WRITE_ONLY_ERRORS = {"409", "415"}

# The middleware refuses any text holding a NUL (PostgreSQL cannot store one): the schema says
# so, on both databases alike.
NO_NUL = "^[^\\x00]*$"


class FacilityLogAutoSchema(AutoSchema):
    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        # These bodies refuse fields they do not take: the schema says so.
        if direction == "request" and isinstance(serializer, RefuseUnknownFields):
            schema["additionalProperties"] = False
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        # A list body's bounds (e.g. 1 to 5000 events a batch) are part of the contract.
        if isinstance(serializer, serializers.ListSerializer) and schema:
            if serializer.min_length is not None:
                schema["minItems"] = serializer.min_length
            if serializer.max_length is not None:
                schema["maxItems"] = serializer.max_length
        return schema, required

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in ERRORS.items():
            if code in WRITE_ONLY_ERRORS and self.method not in ("POST", "PUT", "PATCH"):
                continue
            responses.setdefault(
                code,
                {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR_BODY}},
                },
            )
        return responses


def _no_nul(schema: dict) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema):
        schema["pattern"] = NO_NUL
    for key in ("properties", "patternProperties"):
        for child in (schema.get(key) or {}).values():
            _no_nul(child)
    for key in ("items", "additionalProperties", "not"):
        _no_nul(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key) or []:
            _no_nul(child)


def declare_text_without_nul(result, generator, request, public):
    """Post-processing hook: every string a client sends (request components, inline request
    bodies, path and query parameters) is declared without NUL characters."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _no_nul(component)
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                _no_nul(parameter.get("schema"))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _no_nul(media.get("schema"))
    return result
