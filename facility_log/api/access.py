"""Access events over the API: reading them, the batch endpoint integrations push to, and the
Kisi-compatible webhook. Events are never changed: there is no PUT, PATCH or DELETE."""

import hashlib
import hmac
import json

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from facility_log.api.authentication import ApiTokenAuthentication
from facility_log.api.errors import Unprocessable
from facility_log.api.fields import BlankAsNullChoiceField, RefuseUnknownFields
from facility_log.api.filters import FilterSet, UtcDateTimeFilter
from facility_log.api.pagination import Pagination
from facility_log.api.schema import NO_NUL
from facility_log.models import (
    AccessEvent,
    DenialReason,
    Direction,
    ImportBatch,
    Site,
    SourceFormat,
    WebhookSecret,
)
from facility_log.scoping import INGEST_ROLES, VIEW_ROLES, get_scoped_or_404, scoped, sites_for
from facility_log.services import view_log
from facility_log.services.access import (
    CARDHOLDER_NEEDS_SITE,
    IngestRefused,
    RowError,
    ingest_events,
)
from facility_log.services.access_formats import GENERIC_COLUMNS, Incoming
from facility_log.services.access_formats import kisi_incoming as read_kisi_body
from facility_log.services.accounts import system_actor

MAX_BATCH = 5000


class AccessEventSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    door = serializers.CharField(source="door.code")
    door_name = serializers.CharField(source="door.name")
    reason = BlankAsNullChoiceField(
        choices=DenialReason.choices, help_text="Why access was denied; null otherwise."
    )
    direction = BlankAsNullChoiceField(
        choices=Direction.choices, help_text="null when the source does not say."
    )

    class Meta:
        model = AccessEvent
        fields = [
            "id",
            "site",
            "door",
            "door_name",
            "source",
            "external_id",
            "event_type",
            "reason",
            "vendor_type",
            "occurred_at",
            "received_at",
            "direction",
            "cardholder",
            "credential_hint",
        ]
        read_only_fields = fields


class _CardholderAtOneSite(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("cardholder") and not data.get("site"):
            self.add_error("cardholder", f"{CARDHOLDER_NEEDS_SITE} Add ?site=CODE.")
        return data


class AccessEventFilter(FilterSet):
    """Filters of the event list; `cardholder` (name contains) only together with `site`."""

    site = django_filters.CharFilter(field_name="site__code")
    door = django_filters.CharFilter(field_name="door__code")
    cardholder = django_filters.CharFilter(
        field_name="cardholder",
        lookup_expr="icontains",
        help_text="cardholder name contains (needs `site`: a search covers one site; logged)",
    )
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AccessEvent
        fields = ["site", "door", "event_type", "source"]
        form = _CardholderAtOneSite


class SitesPagination(Pagination):
    """Pages of events, with the codes of the sites whose events the caller can read."""

    def paginate_queryset(self, queryset, request, view=None):
        self.site_codes = list(sites_for(request.user, VIEW_ROLES).values_list("code", flat=True))
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["sites"] = self.site_codes
        return response


class AccessEventItemSerializer(RefuseUnknownFields, serializers.Serializer):
    """One event of a batch, as the schema declares it (the generic CSV's columns)."""

    site = serializers.CharField(required=False, help_text="the site's code, unless ?site=")
    source = serializers.CharField(help_text="the controller or system that saw the event")
    external_id = serializers.CharField(help_text="the source's own event id (idempotency key)")
    occurred_at = serializers.CharField(help_text="RFC 3339 time with its offset")
    door = serializers.CharField(help_text="the door's code or one of its external ids")
    event_type = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True)
    credential = serializers.CharField(required=False, allow_blank=True)
    cardholder = serializers.CharField(required=False, allow_blank=True)
    direction = serializers.CharField(required=False, allow_blank=True)


class BatchItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate"])


class BatchResultSerializer(serializers.Serializer):
    site = serializers.CharField()
    batch = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    alarms = serializers.IntegerField()
    results = BatchItemResultSerializer(many=True)


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


class WebhookResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()


def _check_item_shapes(items: list) -> None:
    """Items that do not match the schema (not an object, a field that is not text, a field
    the batch does not take) are a 400 naming each; what is left to refuse after this is
    content (an unknown door, a time without an offset): a 422."""
    known = {"site", *GENERIC_COLUMNS}
    errors = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[index] = {"item": ["Not a JSON object."]}
            continue
        wrong = {
            str(name): ["Must be a string."]
            for name, value in item.items()
            if name in known and value is not None and not isinstance(value, str)
        }
        wrong.update({str(name): ["Unknown field."] for name in set(item) - known})
        if wrong:
            errors[index] = wrong
    if errors:
        raise serializers.ValidationError(
            {"detail": "Nothing stored: items do not match the schema.", "items": errors}
        )


def _item_incoming(item, index: int) -> Incoming:
    values = {name: str(item.get(name) or "").strip() for name in GENERIC_COLUMNS}
    return Incoming(line=index, **values)


def _errors_by_item(errors: list[RowError]) -> dict[int, dict[str, list[str]]]:
    grouped: dict[int, dict[str, list[str]]] = {}
    for error in errors:
        grouped.setdefault(error.line, {}).setdefault(error.column or "item", []).append(
            error.message
        )
    return grouped


def _refusal(refused: IngestRefused, count: int) -> Response:
    grouped = _errors_by_item(refused.errors)
    results = [
        {"index": i, "status": "error", "errors": grouped[i]}
        if i in grouped
        else {"index": i, "status": "not_stored"}
        for i in range(count)
    ]
    detail = f"Nothing stored: {len(grouped)} item(s) have errors."
    return Response(
        {"detail": detail, "results": results}, status=status.HTTP_422_UNPROCESSABLE_ENTITY
    )


class AccessEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Access events of the sites the caller holds a role at, newest first.

    `POST` a JSON list of events (the generic CSV's columns as keys) with `?site=CODE` (or a
    `site` key in every item): all are checked first; any bad item refuses the whole batch
    with its errors; otherwise every item is reported `created` or `duplicate`.
    Needs the integration or manager role at the site.
    """

    serializer_class = AccessEventSerializer
    filterset_class = AccessEventFilter
    pagination_class = SitesPagination

    def get_queryset(self):
        events = AccessEvent.objects.select_related("site", "door")
        return scoped(events, self.request.user, VIEW_ROLES)

    def list(self, request, *args, **kwargs):
        """A page of events; a search by cardholder is written to the view log."""
        if request.query_params.get("cardholder") and not request.query_params.get("site"):
            # Each parameter matches the schema; only together are they refused: 422.
            raise Unprocessable({"cardholder": [f"{CARDHOLDER_NEEDS_SITE} Add ?site=CODE."]})
        response = super().list(request, *args, **kwargs)
        params = request.query_params
        if params.get("cardholder"):
            view_log.access_events_read(
                request.user,
                self.filter_queryset(self.get_queryset()),
                cardholder=params["cardholder"],
                site=sites_for(request.user, VIEW_ROLES).filter(code=params["site"]).first(),
                query=view_log.filters_text(params, skip=("limit", "offset")),
                csv=False,
            )
        return response

    def _site(self, request, items: list) -> Site:
        codes = {str(item.get("site")) for item in items if isinstance(item, dict)}
        code = request.query_params.get("site") or (codes.pop() if len(codes) == 1 else None)
        if not code:
            raise Unprocessable({"site": "Give ?site=CODE or one `site` for all."})
        return get_scoped_or_404(Site.objects.all(), request.user, INGEST_ROLES, "", code=code)

    @extend_schema(
        request=AccessEventItemSerializer(many=True, min_length=1, max_length=MAX_BATCH),
        parameters=[OpenApiParameter("site", str, description="the site's code")],
        responses={201: BatchResultSerializer, 200: BatchResultSerializer},
        description="201 when at least one event was stored; 200 when every one was a "
        "duplicate of a stored event (a retry).",
    )
    def create(self, request, *args, **kwargs):
        items = request.data
        if not isinstance(items, list) or not items:
            raise serializers.ValidationError({"detail": "Send a non-empty JSON list of events."})
        if len(items) > MAX_BATCH:
            raise serializers.ValidationError({"detail": f"At most {MAX_BATCH} events per call."})
        _check_item_shapes(items)
        site = self._site(request, items)
        rows = (_item_incoming(item, index) for index, item in enumerate(items))
        try:
            result = ingest_events(
                site, request.user, rows, channel=ImportBatch.Channel.API, per_item=True
            )
        except IngestRefused as refused:
            return _refusal(refused, len(items))
        results = [{"index": i, "status": s} for i, s in enumerate(result.statuses)]
        body = {
            "site": site.code,
            "batch": result.batch.pk,
            "created": result.created,
            "duplicates": result.duplicates,
            "alarms": result.alarms,
            "results": results,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


def signature_matches(secret: str, body: bytes, given: str) -> bool:
    """HMAC-SHA256 of the raw body with the site's secret, hex (a `sha256=` prefix is
    tolerated), compared in constant time."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = given.strip().removeprefix("sha256=").lower()
    return hmac.compare_digest(expected, given)


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
        secret = site and WebhookSecret.objects.filter(site=site, is_active=True).first()
        if secret:
            given = request.headers.get("X-Signature", "")
            if not given or not signature_matches(secret.secret, request.body, given):
                raise exceptions.AuthenticationFailed("Missing or wrong X-Signature.")
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
        responses={201: WebhookResultSerializer, 200: WebhookResultSerializer},
        description="201 when the event was stored, 200 when it was already (a retry).",
    )
    def post(self, request, site_code: str):
        try:
            body = json.loads(request.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise serializers.ValidationError({"detail": "The body is not JSON."}) from None
        _check_kisi_shape(body)
        bodies = body if isinstance(body, list) else [body]
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
