"""Reading access events (filters, keyset pages per site) and the batch action."""

import django_filters
from django import forms
from django.db import router
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from facility_log.api.access.batch import (
    MAX_BATCH,
    AccessEventItemSerializer,
    BatchResultSerializer,
    _check_item_shapes,
    _flag,
    _item_incoming,
    _refusal,
)
from facility_log.api.errors import Unprocessable
from facility_log.api.fields import BlankAsNullChoiceField
from facility_log.api.filters import FilterSet, UtcDateTimeFilter
from facility_log.api.pagination import KeysetPagination
from facility_log.api.representation import FastRepresentation
from facility_log.api.rows import RowList
from facility_log.db_times import times_read_natively
from facility_log.models import AccessEvent, DenialReason, Direction, ImportBatch, Site
from facility_log.scoping import (
    INGEST_ROLES,
    VIEW_ROLES,
    get_site_or_404,
    scoped,
    scoped_to_ids,
    sites_for,
)
from facility_log.services import view_log
from facility_log.services.access import CARDHOLDER_NEEDS_SITE, IngestRefused
from facility_log.services.access_ingest import ingest_events
from facility_log.services.keyset_rows import KeysetStatements


class AccessEventSerializer(FastRepresentation, serializers.ModelSerializer):
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

    def _begin(self, request, view) -> None:
        super()._begin(request, view)
        self.site_codes = view.site_codes

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


# The plain page, compiled once per shape (services/keyset_rows.py).
_PAGES = KeysetStatements(
    AccessEvent,
    "occurred_at",
    lambda _filters, site_ids: scoped_to_ids(AccessEvent.objects.all(), site_ids),
)


class AccessEventViewSet(
    RowList, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
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
        ids = self._site_ids()
        self.keyset_split = ("site_id", ids)
        return scoped_to_ids(events, ids).only(*LIST_COLUMNS)

    def _site_ids(self) -> list[int]:
        """The list's sites, read once, as a literal list of ids that the keyset pages read
        site by site (facility_log/paging.py); their codes are sent with the page."""
        if not hasattr(self, "_sites"):
            self._sites = list(sites_for(self.request.user, VIEW_ROLES).values_list("pk", "code"))
            self.site_codes = [code for _pk, code in self._sites]
        wanted = self.request.query_params.get("site")
        return [pk for pk, code in self._sites if not wanted or code == wanted]

    def read_compiled_page(self, columns: list):
        """The plain page (no filter named) by a statement compiled once (RowList); None
        otherwise (then get_queryset, the filters and the ORM)."""
        if any(name in self.request.query_params for name in AccessEventFilter.base_filters):
            return None
        ids = self._site_ids()
        using = router.db_for_read(AccessEvent)
        if not _PAGES.usable(using, ids):
            return None
        with times_read_natively(using):
            return self.paginator.paginate_read(
                self.request,
                self,
                lambda cursor, size: _PAGES.page(
                    using, ids, columns, cursor=cursor, size=size, filters={}
                ),
            )

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
        return get_site_or_404(request.user, code, INGEST_ROLES)

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
