"""Signed webhooks of UniFi Access and Verkada access control, one URL per site.

The vendor's signature is the authentication (no token): the site's `WebhookSecret` for that
vendor must be set. A body that is unsigned, wrongly signed or stale gets 401 with a JSON
`reason` and stores nothing; a body that is signed but bad (unknown door, unreadable time) gets
400 naming the field; a replay of a stored event is a duplicate (200), never a second row.
The signature schemes and set-up are in docs/integrations.md.
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from facility_log.api.parsers import JsonRefused, load_json
from facility_log.models import ImportBatch, Site, SourceFormat, WebhookSecret
from facility_log.services.access import IngestRefused
from facility_log.services.access_formats import unifi_incoming, verkada_incoming
from facility_log.services.access_ingest import ingest_events
from facility_log.services.accounts import system_actor
from facility_log.services.webhook_signatures import (
    WebhookRefused,
    verify_unifi,
    verify_verkada,
)

_RESULT = inline_serializer(
    "WebhookResult",
    {
        "created": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "skipped": serializers.DictField(
            child=serializers.IntegerField(),
            help_text="events from sources that are not doors: source name → count",
        ),
    },
)
_ERRORS = inline_serializer(
    "WebhookErrors",
    {
        "detail": serializers.CharField(),
        "errors": inline_serializer(
            "WebhookItemError",
            {
                "item": serializers.IntegerField(),
                "field": serializers.CharField(help_text="the vendor's field, dotted"),
                "error": serializers.CharField(),
            },
            many=True,
            required=False,  # absent when the request itself is unreadable (e.g. NUL bytes)
        ),
    },
)
_REFUSED = inline_serializer(
    "WebhookRefused",
    {
        "detail": serializers.CharField(),
        "reason": serializers.ChoiceField(
            choices=[
                "not_configured",
                "missing_signature",
                "malformed_signature",
                "bad_signature",
                "stale_timestamp",
            ]
        ),
    },
)
_RESPONSES = {
    201: OpenApiResponse(_RESULT, description="stored (at least one new event)"),
    200: OpenApiResponse(_RESULT, description="nothing new: duplicates or skipped events"),
    400: OpenApiResponse(
        _ERRORS,
        description="signed but not storable (an unknown door, an unreadable time, a NUL "
        "character anywhere in the body); nothing stored",
    ),
    401: OpenApiResponse(_REFUSED, description="unsigned, wrongly signed or stale"),
}


def _refused(reason: str, message: str, scheme: str) -> Response:
    return Response(
        {"detail": message, "reason": reason},
        status=status.HTTP_401_UNAUTHORIZED,
        headers={"WWW-Authenticate": scheme},
    )


class _SignedWebhookView(APIView):
    """One vendor's signed webhook for one site (see the module docstring)."""

    authentication_classes = []
    permission_classes = []
    http_method_names = ["post", "options"]
    # RejectNulMiddleware leaves the NUL check to `handle`, after the signature (see there).
    checks_nul_after_signature = True
    vendor = ""
    header = ""

    def verify(self, secret: str, header: str, body: bytes) -> int:
        raise NotImplementedError

    def incoming(self, body, signed_at: int):
        raise NotImplementedError

    def handle(self, request, site_code: str) -> Response:
        site = Site.objects.filter(code=site_code, is_active=True).first()
        secret = site and (
            WebhookSecret.objects.filter(site=site, source=self.vendor, is_active=True).first()
        )
        if not secret:
            # The same answer for an unknown site: nothing is revealed to an unsigned caller.
            message = f"No {self.vendor} webhook secret is set for this site."
            return _refused("not_configured", message, self.header)
        try:
            signed_at = self.verify(
                secret.secret, request.headers.get(self.header, ""), request.body
            )
        except WebhookRefused as refused:
            return _refused(refused.reason, refused.message, self.header)
        # The signature first: an unsigned body is a 401 whatever it holds (the schema cannot
        # state "no NUL" for a vendor's open-ended body); a signed one with a NUL is refused
        # here as the middleware refuses it elsewhere (PostgreSQL cannot store one).
        if b"\x00" in request.body or b"\\u0000" in request.body:
            message = "The body contains a NUL character, which is never valid text."
            return Response({"detail": message, "errors": []}, status=400)
        try:
            body = load_json(request.body)
        except JsonRefused as refused:
            return Response({"detail": str(refused), "errors": []}, status=400)
        try:
            result = ingest_events(
                site,
                system_actor(),
                # A generator: a body that is no JSON object is named by the checker (400).
                (self.incoming(item, signed_at) for item in [body]),
                channel=ImportBatch.Channel.WEBHOOK,
                vendor=self.vendor,
                per_item=True,
            )
        except IngestRefused as refused:
            errors = [
                {"item": e.line, "field": e.column, "error": e.message} for e in refused.errors
            ]
            return Response({"detail": "Nothing stored.", "errors": errors}, status=400)
        except PermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        answer = {"created": result.created, "duplicates": result.duplicates}
        return Response({**answer, "skipped": result.skipped}, status=code)


class UnifiWebhookView(_SignedWebhookView):
    """UniFi Access webhook (`access.door.unlock` and the other events) for one site, signed
    `Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`; the signed `t`
    must be within 5 minutes and is the event's time (UniFi's body carries none)."""

    vendor = SourceFormat.UNIFI
    header = "Signature"

    def verify(self, secret, header, body):
        return verify_unifi(secret, header, body)

    def incoming(self, body, signed_at):
        return unifi_incoming(body, 1, str(signed_at))

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses=_RESPONSES,
        auth=[],
        parameters=[
            OpenApiParameter(
                "Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description='`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`',
            )
        ],
    )
    def post(self, request, site_code: str):
        return self.handle(request, site_code)


class VerkadaWebhookView(_SignedWebhookView):
    """Verkada access-control notification webhook for one site, signed
    `Verkada-Signature: <unix seconds>|<hex HMAC-SHA256 of "<raw body>|<t>">`; the signed
    timestamp must be within 5 minutes; the event's time is its epoch-second `data.created`."""

    vendor = SourceFormat.VERKADA
    header = "Verkada-Signature"

    def verify(self, secret, header, body):
        return verify_verkada(secret, header, body)

    def incoming(self, body, signed_at):
        return verkada_incoming(body, 1)

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses=_RESPONSES,
        auth=[],
        parameters=[
            OpenApiParameter(
                "Verkada-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description='`<unix seconds>|<hex HMAC-SHA256 of "<raw body>|<t>">`',
            )
        ],
    )
    def post(self, request, site_code: str):
        return self.handle(request, site_code)
