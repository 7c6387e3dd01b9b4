"""The incident and attachment viewsets: list, read, create and edit a draft; the actions
come from the mixins in `workflow` and `additions`."""

from django.db import router
from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.incidents.additions import IncidentAdditionActions
from facility_log.api.incidents.detail import (
    read_related,
    visible_incident,
    visible_with_related,
)
from facility_log.api.incidents.serializers import (
    CONFLICT,
    AttachmentSerializer,
    IncidentCreateSerializer,
    IncidentDetailSerializer,
    IncidentFilterSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
)
from facility_log.api.incidents.workflow import IncidentWorkflowActions
from facility_log.api.pagination import KeysetPagination
from facility_log.api.rows import RowList
from facility_log.db_times import times_read_natively
from facility_log.models import Attachment, Incident, Supplement
from facility_log.scoping import VIEW_ROLES, scoped, scoped_to_ids, site_id_list, sites_for
from facility_log.services import incidents as svc
from facility_log.services import view_log
from facility_log.services.downloads import serve_attachment
from facility_log.services.incidents.search import search_document
from facility_log.services.keyset_rows import KeysetStatements, text_slot

_FILTER_NAMES = tuple(IncidentFilterSerializer._declared_fields)


def _listed(filters: tuple, site_ids: list, text=None):
    """The incidents of `site_ids` as the list reads them (svc.search_incidents with no
    filter or only `text`, scoped to the caller's sites as a literal list)."""
    incidents = scoped_to_ids(Incident.objects.all(), site_ids)
    if "text" in filters:
        incidents = incidents.alias(search_text=search_document()).filter(
            search_text__icontains=text
        )
    return incidents


# The plain page and the text search, compiled once per shape (services/keyset_rows.py).
_PAGES = KeysetStatements(Incident, "occurred_from", _listed, text_slot())


def _refuse_unknown(data, serializer_class) -> None:
    """A field the endpoint does not take (a typo, or `status`/`number`, which only the
    workflow sets) is an error naming it, not silently ignored."""
    known = set(serializer_class().fields)
    unknown = sorted(set(getattr(data, "keys", list)()) - known)
    if unknown:
        raise serializers.ValidationError(
            dict.fromkeys(unknown, "Unknown field; it cannot be set here.")
        )


@extend_schema_view(
    create=extend_schema(
        request=IncidentCreateSerializer,
        responses={201: IncidentDetailSerializer, 200: IncidentDetailSerializer},
        summary="Report an incident (idempotent on client_uuid; 422 if the payload differs)",
    ),
    partial_update=extend_schema(
        request=IncidentUpdateSerializer,
        responses={200: IncidentDetailSerializer, 409: CONFLICT},
        summary="Edit a draft (send the version it was made on; 409 when stale)",
    ),
    retrieve=extend_schema(responses=IncidentDetailSerializer),
    list=extend_schema(parameters=[IncidentFilterSerializer]),
)
class IncidentViewSet(
    IncidentWorkflowActions,
    IncidentAdditionActions,
    RowList,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents at the sites the caller holds a role at. Filters: `site`, `status`,
    `severity`, `category`, `date_from`, `date_to` (YYYY-MM-DD) and `text`."""

    serializer_class = IncidentSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends: list = []
    pagination_class = KeysetPagination
    keyset_time_field = "occurred_from"

    def get_queryset(self):
        if self.action == "list":
            filters = self._filters()
            # Cursor pages read each site's (site, time, id) range and merge them
            # (facility_log/paging.py): the caller's sites as a literal list.
            ids = site_id_list(self.request.user, VIEW_ROLES)
            if filters.get("site"):
                chosen = sites_for(self.request.user, VIEW_ROLES).filter(code=filters["site"])
                ids = list(chosen.values_list("pk", flat=True))
            self.keyset_split = ("site_id", ids)
            return svc.search_incidents(self.request.user, filters)
        if self.action == "retrieve":
            # Its related rows are read by retrieve(), by queries compiled once (detail.py).
            return svc.visible_incidents(self.request.user)
        # Supplements and attachments with their authors in one query each (a string
        # prefetch of `supplements__author` reads the users in a query of their own).
        return svc.visible_incidents(self.request.user).prefetch_related(
            "persons",
            "vehicles",
            "property_items",
            Prefetch("supplements", Supplement._default_manager.select_related("author")),
            Prefetch("attachments", Attachment._default_manager.select_related("uploaded_by")),
        )

    def read_compiled_page(self, columns: list):
        """The page by a statement compiled once (RowList), when no filter but `text` is
        named; None otherwise (then get_queryset and the ORM)."""
        filters = self._filters()  # a bad value is its 400 here as there
        if set(filters) - {"text"}:
            return None
        ids = site_id_list(self.request.user, VIEW_ROLES)
        using = router.db_for_read(Incident)
        if not _PAGES.usable(using, ids):
            return None
        with times_read_natively(using):
            return self.paginator.paginate_read(
                self.request,
                self,
                lambda cursor, size: _PAGES.page(
                    using, ids, columns, cursor=cursor, size=size, filters=filters
                ),
            )

    def _filters(self) -> dict:
        """The list filters from the query string; a value that cannot match is a 400 naming
        the parameter, not an empty list that looks like "no incidents"."""
        if not any(name in self.request.query_params for name in _FILTER_NAMES):
            # No filter named (a plain page): none of the fields is required or has a
            # default, so the serializer would find nothing; it is not built.
            return {}
        serializer = IncidentFilterSerializer(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        empty = {
            name: ["Give a value, or leave the parameter out."]
            for name, field in serializer.fields.items()
            if self.request.query_params.get(name) == "" and not getattr(field, "allow_blank", 0)
        }
        if empty:
            raise serializers.ValidationError(empty)
        return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}

    def get_serializer_class(self):
        return IncidentDetailSerializer if self.action == "retrieve" else IncidentSerializer

    def get_object(self):
        """The incident of a read (`retrieve`) by a query compiled once (detail.py), checked
        as DRF checks it; anything else as DRF reads it."""
        if self.action != "retrieve":
            return super().get_object()
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        read, incident = visible_incident(self.request.user, lookup, router.db_for_read(Incident))
        if not read:
            return super().get_object()
        if incident is None:  # worded as django.shortcuts.get_object_or_404 words it
            raise Http404(f"No {Incident._meta.object_name} matches the given query.")
        self.check_object_permissions(self.request, incident)
        return incident

    def retrieve(self, request, *args, **kwargs):
        """One incident with its persons, statements and attachments: logged in the view
        log."""
        # (The docstring is the schema's description.) On PostgreSQL the view-log row goes
        # with its ledger entry, its id read with the incident and its related rows.
        incident, view_pk = self._read_detail()
        view_log.incident_read(request.user, incident, view_log.Via.API, pk=view_pk)
        return Response(self.get_serializer(incident).data)

    def _read_detail(self) -> tuple[Incident, int | None]:
        """The incident of a read with its related rows and the view log's next id: in one
        round trip (detail.visible_with_related, checked as `get_object` checks it), or
        `get_object` then `read_related` where that cannot read it."""
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        using = router.db_for_read(Incident)
        read, incident, view_pk = visible_with_related(self.request.user, lookup, using)
        if not read:
            incident = self.get_object()
            return incident, read_related(incident)
        if incident is None:  # worded as django.shortcuts.get_object_or_404 words it
            raise Http404(f"No {Incident._meta.object_name} matches the given query.")
        self.check_object_permissions(self.request, incident)
        return incident, view_pk

    def handle_exception(self, exc):
        if isinstance(exc, svc.EditConflict):
            return Response(
                {
                    "detail": str(exc),
                    "current_version": exc.current.version,
                    "current": IncidentSerializer(exc.current).data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, svc.StateConflict):
            # Someone moved the incident on (a second supervisor approving): a clash with its
            # state, answered with the incident as it is now.
            return Response(
                {
                    "detail": exc.messages[0],
                    "status": exc.messages,
                    "current_status": exc.current.status,
                    "current_version": exc.current.version,
                    "current": IncidentSerializer(exc.current).data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, svc.IdempotencyConflict):
            return Response(
                {"client_uuid": [str(exc)]}, status=status.HTTP_422_UNPROCESSABLE_ENTITY
            )
        return super().handle_exception(exc)

    def _detail(self, incident: Incident, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(IncidentDetailSerializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        _refuse_unknown(request.data, IncidentCreateSerializer)
        serializer = IncidentCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        children = {
            kind: [dict(row) for row in data.pop(kind, [])]
            for kind in ("persons", "vehicles", "property_items")
        }
        incident, created = svc.create_incident(
            request.user,
            site=data.pop("site"),
            client_uuid=data.pop("client_uuid"),
            **children,
            **data,
        )
        return self._detail(incident, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def update(self, request, *args, **kwargs):
        incident = self.get_object()
        _refuse_unknown(request.data, IncidentUpdateSerializer)
        serializer = IncidentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise Unprocessable({"version": "This field is required."})
        updated = svc.update_draft(
            incident,
            request.user,
            expected_version=data.pop("version"),
            reason=data.pop("reason", "") or "draft edited through the API",
            **data,
        )
        return self._detail(updated)

    def _input(self, serializer_class) -> dict:
        _refuse_unknown(self.request.data, serializer_class)
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class AttachmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Attachments of the incidents the caller may see; `download/` returns the bytes."""

    serializer_class = AttachmentSerializer
    filter_backends: list = []

    def get_queryset(self):
        return scoped(
            Attachment.objects.select_related("incident__site", "uploaded_by"),
            self.request.user,
            VIEW_ROLES,
            site_field="incident__site",
        )

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The stored bytes, logged in the view log."""
        return serve_attachment(request.user, self.get_object())
