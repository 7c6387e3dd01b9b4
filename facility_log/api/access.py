"""Access events over the API: reading them, the batch endpoint integrations push to, and the
Kisi-compatible webhook. Events are never changed: there is no PUT, PATCH or DELETE."""

import json

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from facility_log.api.authentication import ApiTokenAuthentication
from facility_log.api.filters import UtcDateTimeFilter
from facility_log.api.pagination import KeysetPagination
from facility_log.models import AccessEvent, ImportBatch, Site, SourceFormat, WebhookSecret
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


class AccessEventFilter(django_filters.FilterSet):
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


def _item_incoming(item, index: int) -> Incoming:
    if not isinstance(item, dict):
        raise FormatError(f"Item {index} is not a JSON object.", index)
    values = {name: _value(item.get(name)) for name in GENERIC_COLUMNS}
    # `occurred_at` may be an RFC 3339 string or epoch seconds/milliseconds (string or number).
    return Incoming(line=index, epoch=True, **values)


def _value(value) -> str:
    return "" if value is None or value is False else str(value).strip()


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
    return Response({"detail": detail, "results": results}, status=status.HTTP_400_BAD_REQUEST)


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
            raise serializers.ValidationError({"site": "Give ?site=CODE or one `site` for all."})
        return get_scoped_or_404(Site.objects.all(), request.user, INGEST_ROLES, "", code=code)

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        parameters=[
            OpenApiParameter("site", str, description="the site's code"),
            OpenApiParameter(
                "site_time",
                bool,
                description="read `occurred_at` values without an offset in the site's time "
                "zone (without it they are refused, naming the item)",
            ),
        ],
        responses={201: dict, 200: dict, 400: dict, 404: dict},
    )
    def create(self, request, *args, **kwargs):
        items = request.data
        if not isinstance(items, list) or not items:
            raise serializers.ValidationError({"detail": "Send a non-empty JSON list of events."})
        if len(items) > MAX_BATCH:
            raise serializers.ValidationError({"detail": f"At most {MAX_BATCH} events per call."})
        site = self._site(request, items)
        rows = (_item_incoming(item, index) for index, item in enumerate(items))
        try:
            result = ingest_events(
                site,
                request.user,
                rows,
                channel=ImportBatch.Channel.API,
                per_item=True,
                site_time=request.query_params.get("site_time") in ("1", "true"),
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

    @extend_schema(request={"application/json": {"type": "object"}}, responses={201: dict})
    def post(self, request, site_code: str):
        try:
            body = json.loads(request.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise serializers.ValidationError({"detail": "The body is not JSON."}) from None
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
            return Response({"detail": "Nothing stored.", "errors": errors}, status=400)
        except PermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response({"created": result.created, "duplicates": result.duplicates}, status=code)
