"""The documented error answers of the endpoints in api/alarms.py, api/audit.py,
api/history.py, api/reports.py, api/retention.py, api/categories.py and api/exports.py:
every status code an operation can answer with is listed in its `extend_schema`."""

from drf_spectacular.utils import OpenApiResponse

from facility_log.api.schema import ERROR_BODY

DESCRIPTIONS = {
    400: "Invalid input: the body names each field (or parameter) and what is wrong with it.",
    401: "No credentials, or a token that is invalid or revoked.",
    403: "Signed in, but not allowed (a role too low at the site).",
    404: "No such record among the sites you hold a role at.",
    409: "The record is not in a state that allows this (the body says why).",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """`{code: response}` for `codes`, each with the one error body of the API."""
    return {
        code: OpenApiResponse(response=ERROR_BODY, description=DESCRIPTIONS[code]) for code in codes
    }


READ = (401, 403)
READ_ONE = (401, 403, 404)
WRITE_ONE = (400, 401, 403, 404)
