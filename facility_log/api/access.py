"""Access events over the API: reading them, the batch endpoint integrations push to, and the
Kisi-compatible webhook. Events are never changed: there is no PUT, PATCH or DELETE."""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from facility_log.api.authentication import ApiTokenAuthentication
from facility_log.api.errors import Unprocessable
from facility_log.api.fields import BlankAsNullChoiceField, RefuseUnknownFields
from facility_log.api.filters import FilterSet, UtcDateTimeFilter
from facility_log.api.pagination import KeysetPagination
from facility_log.api.parsers import JsonRefused, load_json
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
from facility_log.scoping import (
    INGEST_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    scoped,
    scoped_to_ids,
    sites_for,
)
from facility_log.services import view_log
from facility_log.services.access import (
    CARDHOLDER_NEEDS_SITE,
    IngestRefused,
    RowError,
)
from facility_log.services.access_formats import (
    GENERIC_COLUMNS,
    FormatError,
    Incoming,
    TimeRefused,
    parse_time,
)
from facility_log.services.access_formats import kisi_incoming as read_kisi_body
from facility_log.services.access_ingest import ingest_events
from facility_log.services.accounts import system_actor
from facility_log.services.webhook_signatures import (
    WebhookRefused,
    check_event_recent,
    verify_kisi,
)

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


# The columns the list's serializer reads (not the credential hash, not the batch).
LIST_COLUMNS = [
    "site__code",
    "door__code",
    "door__name",
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


class SitesPagination(KeysetPagination):
    """Cursor pages of events, with the codes of the sites whose events the caller can read
    (read once by the view, with the ids it scopes to)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.site_codes = view.site_codes
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["sites"] = self.site_codes
        return response

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["required"].append("sites")
        answer["properties"]["sites"] = {
            "type": "array",
            "items": {"type": "string"},
            "description": "The codes of the sites whose events the caller can read.",
        }
        return answer


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]})
class TextOrEpochField(serializers.Field):
    """A time as text (RFC 3339) or as epoch seconds/milliseconds (a whole number)."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class AccessEventItemSerializer(RefuseUnknownFields, serializers.Serializer):
    """One event of a batch, as the schema declares it (the generic CSV's columns)."""

    site = serializers.CharField(required=False, help_text="the site's code, unless ?site=")
    source = serializers.CharField(help_text="the controller or system that saw the event")
    external_id = serializers.CharField(help_text="the source's own event id (idempotency key)")
    occurred_at = TextOrEpochField(
        help_text="RFC 3339 time with its offset, or epoch seconds or milliseconds"
    )
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


class KisiWebhookResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()


def _text_or_epoch(name: str, value) -> bool:
    """Text, or for `occurred_at` also epoch seconds or milliseconds as a number."""
    if isinstance(value, str):
        return True
    is_number = isinstance(value, int) and not isinstance(value, bool)
    return name == "occurred_at" and is_number and value >= 0


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
            if name in known and value is not None and not _text_or_epoch(name, value)
        }
        wrong.update({str(name): ["Unknown field."] for name in set(item) - known})
        if wrong:
            errors[index] = wrong
    if errors:
        raise serializers.ValidationError(
            {"detail": "Nothing stored: items do not match the schema.", "items": errors}
        )


def _item_incoming(item, index: int) -> Incoming:
    if not isinstance(item, dict):
        raise FormatError(f"Item {index} is not a JSON object.", index)
    values = {name: _value(item.get(name)) for name in GENERIC_COLUMNS}
    # `occurred_at` may be an RFC 3339 string or epoch seconds/milliseconds (string or number).
    return Incoming(line=index, epoch=True, **values)


def _value(value) -> str:
    return "" if value is None or value is False else str(value).strip()


def _flag(request, name: str) -> bool:
    """A boolean query parameter: `true` or `false`, as the schema declares it."""
    value = request.query_params.get(name, "false")
    if value not in ("true", "false"):
        raise serializers.ValidationError({name: ["Must be true or false."]})
    return value == "true"


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
    with its errors; otherwise every item is reported `created` or `duplicate`. `occurred_at`
    is an RFC 3339 date-time with an offset, or epoch seconds or milliseconds.
    Needs the integration or manager role at the site.
    """

    serializer_class = AccessEventSerializer
    filterset_class = AccessEventFilter
    pagination_class = SitesPagination

    keyset_time_field = "occurred_at"

    def get_queryset(self):
        events = AccessEvent.objects.select_related("site", "door")
        if self.action != "list":
            return scoped(events, self.request.user, VIEW_ROLES)
        # The list: the caller's sites read once, as a literal list of ids that the keyset
        # pages read site by site (facility_log/paging.py); only the columns it shows.
        sites = list(sites_for(self.request.user, VIEW_ROLES).values_list("pk", "code"))
        self.site_codes = [code for _pk, code in sites]
        wanted = self.request.query_params.get("site")
        ids = [pk for pk, code in sites if not wanted or code == wanted]
        self.keyset_split = ("site_id", ids)
        return scoped_to_ids(events, ids).only(*LIST_COLUMNS)

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
                query=view_log.filters_text(params, skip=("limit", "offset", "cursor")),
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
        parameters=[
            OpenApiParameter("site", str, description="the site's code"),
            OpenApiParameter(
                "site_time",
                bool,
                description="read `occurred_at` values without an offset in the site's time "
                "zone (without it they are refused, naming the item)",
            ),
        ],
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
                site,
                request.user,
                rows,
                channel=ImportBatch.Channel.API,
                per_item=True,
                site_time=_flag(request, "site_time"),
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
