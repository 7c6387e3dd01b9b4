"""The Kisi-compatible webhook: signed bodies, their shape, and stale-body refusal."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from facility_log.api.authentication import ApiTokenAuthentication
from facility_log.api.parsers import JsonRefused, load_json
from facility_log.api.schema import NO_NUL
from facility_log.models import ImportBatch, Site, SourceFormat, WebhookSecret
from facility_log.scoping import INGEST_ROLES, get_scoped_or_404
from facility_log.services.access import IngestRefused
from facility_log.services.access_formats import TimeRefused, parse_time
from facility_log.services.access_formats import kisi_incoming as read_kisi_body
from facility_log.services.access_ingest import ingest_events
from facility_log.services.accounts import system_actor
from facility_log.services.webhook_signatures import WebhookRefused, check_event_recent, verify_kisi

_TEXT = {"type": "string", "pattern": NO_NUL}


_NULLABLE_TEXT = {"type": "string", "nullable": True, "pattern": NO_NUL}


_NULLABLE_ID = {"nullable": True, "anyOf": [_TEXT, {"type": "integer"}]}


KISI_EVENT = {
    "type": "object",
    "description": "One Kisi event-webhook body, as Kisi sends it. `success` false means "
    "denied. A field Kisi does not send is refused naming it, so a change in Kisi's "
    "payload shows in its webhook log instead of passing unread.",
    "required": ["uuid", "created_at", "object_id", "type"],
    "properties": {
        "uuid": {"type": "string", "minLength": 1, "pattern": NO_NUL},
        "created_at": {"type": "string", "format": "date-time"},
        "object_id": {"type": "string", "minLength": 1, "pattern": NO_NUL},
        "type": {"type": "string", "minLength": 1, "pattern": NO_NUL},
        "success": {"type": "boolean"},
        "error_code": _NULLABLE_TEXT,
        "error_message": _NULLABLE_TEXT,
        "actor_type": _NULLABLE_TEXT,
        "actor_id": _NULLABLE_ID,
        "actor_name": _NULLABLE_TEXT,
        "object_type": _NULLABLE_TEXT,
        "object_name": _NULLABLE_TEXT,
        "organization_id": _NULLABLE_ID,
        "place_id": _NULLABLE_ID,
    },
    "additionalProperties": False,
}


KISI_TEXT_FIELDS = ("uuid", "created_at", "object_id", "type")


def _check_kisi_shape(body) -> None:
    """A body that is not what the schema declares is a 400 naming the field; an event the
    schema allows but the site cannot take (an unknown door) is a 422."""
    bodies = body if isinstance(body, list) else [body]
    for number, item in enumerate(bodies, start=1):
        if not isinstance(item, dict):
            raise serializers.ValidationError({"detail": f"Item {number} is not a JSON object."})
        unknown = sorted(str(name) for name in set(item) - set(KISI_EVENT["properties"]))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Not a field of a Kisi event."] for name in unknown}
            )
        for name, value in item.items():
            if isinstance(value, (dict, list)):
                raise serializers.ValidationError({str(name): ["Must be a flat value."]})
        for name in KISI_TEXT_FIELDS:
            if not isinstance(item.get(name), str) or not item[name]:
                raise serializers.ValidationError({name: ["A non-empty string is required."]})
        if "success" in item and not isinstance(item["success"], bool):
            raise serializers.ValidationError({"success": ["Must be true or false."]})
        for name in ("error_code", "actor_name"):
            if item.get(name) is not None and not isinstance(item[name], str):
                raise serializers.ValidationError({name: ["Must be a string or null."]})


class KisiWebhookResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()


def _stale_kisi_body(bodies: list) -> Response | None:
    """Kisi signs no timestamp: a signed body whose event is older than the replay window is
    refused (401, nothing stored). An unreadable time is left for the checker to name."""
    now = timezone.now()
    for number, item in enumerate(bodies, start=1):
        created = item.get("created_at") if isinstance(item, dict) else None
        try:
            occurred = parse_time(created, now=now)
        except TimeRefused:
            continue
        try:
            check_event_recent(occurred, now, f"Item {number} (created_at {created})")
        except WebhookRefused as refused:
            body = {"detail": refused.message, "reason": refused.reason}
            return Response(body, status=401, headers={"WWW-Authenticate": "X-Signature"})
    return None


class KisiWebhookView(APIView):
    """Kisi event webhook for one site. When the site has a webhook secret, the body must
    carry a valid `X-Signature` (HMAC-SHA256 of the raw body) and that signature is the
    authentication; a missing or wrong one gets 401 and nothing is stored. A site without a
    secret accepts only an API token holding the integration or manager role there."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = []
    http_method_names = ["post", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        site = Site.objects.filter(code=kwargs["site_code"], is_active=True).first()
        secret = site and WebhookSecret.objects.filter(site=site, source="kisi", is_active=True)
        secret = secret and secret.first()
        request.webhook_signed = bool(secret)
        if secret:
            try:
                verify_kisi(secret.secret, request.headers.get("X-Signature", ""), request.body)
            except WebhookRefused as refused:
                raise exceptions.AuthenticationFailed(
                    {"detail": refused.message, "reason": refused.reason}
                ) from None
            request.webhook_actor = system_actor()
        else:
            request.webhook_actor = self._token_holder(request, site)
        request.webhook_site = site

    def _token_holder(self, request, site):
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Sign the body (X-Signature) or send a token.")
        if site is None:
            raise Http404("No such site.")
        get_scoped_or_404(Site.objects.all(), request.user, INGEST_ROLES, "", pk=site.pk)
        return request.user

    def get_authenticate_header(self, request):
        return 'Token realm="api", X-Signature'

    @extend_schema(
        request={"application/json": KISI_EVENT},
        responses={201: KisiWebhookResultSerializer, 200: KisiWebhookResultSerializer},
        description="201 when the event was stored, 200 when it was already (a retry).",
    )
    def post(self, request, site_code: str):
        try:
            body = load_json(request.body)
        except JsonRefused as refused:
            raise serializers.ValidationError({"detail": str(refused)}) from None
        _check_kisi_shape(body)
        bodies = body if isinstance(body, list) else [body]
        if request.webhook_signed:
            refusal = _stale_kisi_body(bodies)
            if refusal is not None:
                return refusal
        rows = (read_kisi_body(item, number) for number, item in enumerate(bodies, start=1))
        try:
            result = ingest_events(
                request.webhook_site,
                request.webhook_actor,
                rows,
                channel=ImportBatch.Channel.WEBHOOK,
                vendor=SourceFormat.KISI,
                per_item=True,
            )
        except IngestRefused as refused:
            errors = [
                {"item": e.line, "field": e.column, "error": e.message} for e in refused.errors
            ]
            return Response(
                {"detail": "Nothing stored.", "errors": errors},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        except PermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response({"created": result.created, "duplicates": result.duplicates}, status=code)
