"""Lost and found over the API: the found items of the caller's sites (cursor pages, newest
found first), one item, recording one (JSON), its photo (multipart, on its own action, checked
by its content), handing one over to its owner and disposing of one. The same services as the
pages (services/lost_found.py) and the same roles: members of the site read, guards,
supervisors and managers record and hand over, supervisors and managers dispose.

Status codes: 201 recorded; 200 read or a step done; 400 a body that does not match the schema
(an unknown field, a wrong type); 422 refused for its content, naming the field (a site, zone or
incident not found there, a found time in the future, a file that is not a photo, an owner who
did not confirm); 409 a step the item's state does not allow (no longer stored, still within
its retention period, a photo already there), naming the field; 403 a role too low; 404 an
item of a site where you hold no role.

No search by owner: an owner's name belongs to one handover (DESIGN.md), so the list filters
by site and state only."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import DateTimeField, IdField, NamedText, RefuseUnknownFields
from facility_log.api.pagination import KeysetPagination
from facility_log.api.responses import READ, READ_ONE, WRITE_ONE, errors
from facility_log.api.schema import ERROR_BODY
from facility_log.models import FoundItem, FoundItemState, Incident, Site, Zone
from facility_log.scoping import ANY_ROLE, VIEW_ROLES, scoped, scoped_to_ids, site_id_list
from facility_log.services import lost_found as svc

CONFLICT = OpenApiResponse(
    ERROR_BODY,
    description="The item's state does not allow it: no longer stored (`state`), kept until "
    "its retention period ends (`state`, with the date), or a photo already there (`photo`).",
)
REFUSED = OpenApiResponse(
    ERROR_BODY,
    description="Refused for its content, naming the field: a site, zone or incident not "
    "found there, a time found in the future, a file that is not a photo, a missing "
    "confirmation of receipt.",
)
STATE_CODES = (svc.NOT_STORED, svc.KEPT, svc.HAS_PHOTO)


class FoundItemSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    zone_name = serializers.CharField(source="zone.name", default=None, allow_null=True)
    incident_number = serializers.CharField(source="incident.number", default=None, allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.username")
    left_by = serializers.CharField(source="left_by.username", default=None, allow_null=True)
    photo_url = serializers.SerializerMethodField(
        help_text="The photo (members of the site only); null without one."
    )

    class Meta:
        model = FoundItem
        fields = [
            "id",
            "site",
            "zone",
            "zone_name",
            "incident",
            "incident_number",
            "description",
            "found_at",
            "found_by",
            "recorded_by",
            "recorded_at",
            "storage_location",
            "photo_url",
            "photo_content_type",
            "photo_sha256",
            "state",
            "owner_name",
            "owner_confirmed",
            "left_at",
            "left_by",
            "disposal_reason",
        ]
        read_only_fields = fields

    def get_photo_url(self, item) -> str | None:
        return reverse("api-found-item-photo", args=[item.pk]) if item.photo else None


class FoundItemCreateSerializer(RefuseUnknownFields, serializers.Serializer):
    site = NamedText(max_length=20, help_text="The site's code.")
    description = NamedText()
    found_at = DateTimeField()
    found_by = NamedText(max_length=150, help_text="Who found it, as told.")
    storage_location = NamedText(max_length=200, help_text="Where it is kept.")
    zone = IdField(required=False, allow_null=True, help_text="A zone of the site.")
    incident = IdField(required=False, allow_null=True, help_text="An incident of the site.")
    reason = NamedText(max_length=500)


class FoundItemPhotoSerializer(RefuseUnknownFields, serializers.Serializer):
    photo = serializers.FileField(help_text="JPEG, PNG, GIF or WebP, checked by its content.")
    reason = NamedText(max_length=500)


class HandOverSerializer(RefuseUnknownFields, serializers.Serializer):
    owner_name = NamedText(max_length=150, help_text="As typed for this handover only.")
    owner_confirms = serializers.BooleanField(help_text="The owner confirms receipt (true).")
    reason = NamedText(max_length=500)


class DisposeSerializer(RefuseUnknownFields, serializers.Serializer):
    reason = NamedText(max_length=500, help_text="How and why (given to charity, destroyed).")


class FoundItemFilterSerializer(serializers.Serializer):
    site = serializers.CharField(required=False, max_length=20, help_text="site code")
    state = serializers.ChoiceField(choices=FoundItemState.choices, required=False)


def _item_answer(item: FoundItem, code=status.HTTP_200_OK) -> Response:
    return Response(FoundItemSerializer(_with_relations(item.pk)).data, status=code)


def _with_relations(pk: int) -> FoundItem:
    return FoundItem.objects.select_related(
        "site", "zone", "incident", "recorded_by", "left_by"
    ).get(pk=pk)


@extend_schema_view(
    list=extend_schema(
        parameters=[FoundItemFilterSerializer],
        responses={200: FoundItemSerializer(many=True), **errors(400, *READ), 422: REFUSED},
        summary="Found items of your sites, newest found first (filters: site, state)",
    ),
    retrieve=extend_schema(responses={200: FoundItemSerializer, **errors(*READ_ONE)}),
    create=extend_schema(
        request=FoundItemCreateSerializer,
        responses={201: FoundItemSerializer, **errors(400, 401, 403), 422: REFUSED},
        summary="Record an item found at a site (its photo goes to `photo/` after)",
    ),
)
class FoundItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Found items of the sites where the caller holds a role."""

    serializer_class = FoundItemSerializer
    filter_backends: list = []
    pagination_class = KeysetPagination
    keyset_time_field = "found_at"

    def get_queryset(self):
        items = FoundItem.objects.select_related(
            "site", "zone", "incident", "recorded_by", "left_by"
        )
        if self.action != "list":
            return scoped(items, self.request.user, VIEW_ROLES)
        filters = FoundItemFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        ids = site_id_list(self.request.user, VIEW_ROLES)
        if filters.validated_data.get("site"):
            chosen = Site.objects.filter(pk__in=ids, code=filters.validated_data["site"])
            ids = list(chosen.values_list("pk", flat=True))
        # Cursor pages read each site's (site, found_at, id) range and merge them.
        self.keyset_split = ("site_id", ids)
        items = scoped_to_ids(items, ids)
        if filters.validated_data.get("state"):
            items = items.filter(state=filters.validated_data["state"])
        return items

    def create(self, request, *args, **kwargs):
        body = FoundItemCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        site = scoped(Site.objects.filter(code=data["site"].strip()), request.user, ANY_ROLE, "")
        site = site.first()
        if site is None:
            raise Unprocessable({"site": [_("Not found among your sites.")]})
        found = svc.FoundItemInput(
            description=data["description"],
            found_at=data["found_at"],
            found_by=data["found_by"],
            storage_location=data["storage_location"],
            zone=_of_site(Zone, site, data.get("zone"), "zone"),
            incident=_of_site(Incident, site, data.get("incident"), "incident"),
        )
        item = svc.record_found_item(site, request.user, found, reason=data["reason"])
        return _item_answer(item, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": FoundItemPhotoSerializer},
        responses={200: FoundItemSerializer, **errors(*WRITE_ONE), 409: CONFLICT, 422: REFUSED},
        summary="Add the photo of a stored item recorded without one (multipart)",
    )
    @extend_schema(
        methods=["get"],
        responses={(200, "application/octet-stream"): bytes, **errors(*READ_ONE)},
        summary="The item's photo, as the image type its content showed",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        # A file is the one body that is not JSON (docs/api.md).
        parser_classes=[parsers.MultiPartParser],
    )
    def photo(self, request, pk=None):
        item = self.get_object()
        if request.method == "GET":
            return svc.serve_photo(item)
        body = FoundItemPhotoSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return self._step(svc.add_photo, item, data["photo"], reason=data["reason"])

    @extend_schema(
        request=HandOverSerializer,
        responses={200: FoundItemSerializer, **errors(*WRITE_ONE), 409: CONFLICT, 422: REFUSED},
        summary="Hand a stored item over to its owner, who confirms receipt",
    )
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        item = self.get_object()
        body = HandOverSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._step(svc.hand_over, item, **body.validated_data)

    @extend_schema(
        request=DisposeSerializer,
        responses={200: FoundItemSerializer, **errors(*WRITE_ONE), 409: CONFLICT, 422: REFUSED},
        summary="Dispose of a stored item kept for its retention period (supervisors, managers)",
    )
    @action(detail=True, methods=["post"])
    def dispose(self, request, pk=None):
        item = self.get_object()
        body = DisposeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._step(svc.dispose, item, reason=body.validated_data["reason"])

    def _step(self, service, item: FoundItem, *args, **kwargs) -> Response:
        """Run one service step as the caller; a refusal for the item's state is a 409."""
        try:
            item = service(item, self.request.user, *args, **kwargs)
        except DjangoValidationError as error:
            return _conflict_or_raise(error)
        return _item_answer(item)


def _of_site(model, site: Site, pk: int | None, field: str):
    """The zone or incident `pk` among `site`'s own (none of another site is revealed)."""
    if pk is None:
        return None
    found = model.objects.filter(site=site, pk=pk).first()
    if found is None:
        raise Unprocessable({field: [_("Not found at %(site)s.") % {"site": site.code}]})
    return found


def _conflict_or_raise(error: DjangoValidationError) -> Response:
    """A step the item's state refuses is a 409 naming the field; any other rule is raised on
    to the exception handler (a 422 naming the field)."""
    for field, errors_ in getattr(error, "error_dict", {}).items():
        if any(e.code in STATE_CODES for e in errors_):
            return Response(
                {field: [str(m) for e in errors_ for m in e.messages]},
                status=status.HTTP_409_CONFLICT,
            )
    raise error
