"""OpenAPI generation: every operation documents the errors it can answer with."""

from drf_spectacular.openapi import AutoSchema

ERROR_BODY = {
    "type": "object",
    "description": "`detail` for general errors, or one list of messages per field name.",
    "additionalProperties": True,
}
ERRORS = {
    "400": "Invalid input: the body names each field and what is wrong with it.",
    "401": "No credentials, or a token that is invalid or revoked.",
    "403": "Signed in, but not allowed (e.g. a role too low at the site).",
    "404": "No such record among the sites you hold a role at.",
    "415": "A body in a format this operation does not read (e.g. malformed multipart).",
}


class FacilityLogAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in ERRORS.items():
            if code == "404" and "{" not in self.path:
                continue
            if code == "415" and self.method not in ("POST", "PUT", "PATCH"):
                continue
            responses.setdefault(
                code,
                {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR_BODY}},
                },
            )
        return responses
