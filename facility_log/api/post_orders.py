"""Post orders over the API: every member of a site reads them (the tablet shows them to the
guard before the shift), supervisors and managers write them, and an edit names the
`version` it was made on (409 with the current post order when another edit came first).
The acknowledgement rides with the shift start (`post_order_versions` on POST /shifts/).
Every write goes through services/post_orders.py."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import NamedText, RefuseUnknownFields, SlugRelatedField
from facility_log.api.responses import READ, READ_ONE, WRITE_ONE, errors
from facility_log.api.rounds import ReachableField
from facility_log.api.schema import ERROR_BODY
from facility_log.api.sites import ReasonField
from facility_log.markup import render_markup
from facility_log.models import PostOrder, PostOrderAttachment, PostOrderVersion, Site, Zone
from facility_log.models.post_orders import BODY_MAX, TITLE_MAX
from facility_log.scoping import VIEW_ROLES, scoped
from facility_log.services import post_orders as services

REFUSED_422 = OpenApiResponse(
    response=ERROR_BODY,
    description="A site or zone not among yours, or text of white space only (names the field).",
)


class PostOrderFileSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Download (members of the site only).")

    class Meta:
        model = PostOrderAttachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "url"]

    def get_url(self, attachment) -> str:
        return reverse("post-order-file", args=[attachment.pk])


class PostOrderSerializer(serializers.ModelSerializer):
    """A post order as it stands: its current version's text, also as safe HTML."""

    site = SlugRelatedField(slug_field="code", read_only=True)
    zone_name = serializers.CharField(
        source="zone.name", read_only=True, default=None, allow_null=True
    )
    body_html = serializers.SerializerMethodField(
        help_text="The body's markup as HTML: everything escaped, then paragraphs, bullet "
        "lists and bold."
    )
    version_id = serializers.SerializerMethodField(
        help_text="The id of the current version: what a shift start acknowledges."
    )
    attachments = PostOrderFileSerializer(many=True, read_only=True)
    retired_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Set once retired: no longer in force."
    )
    retired_by = serializers.CharField(
        source="retired_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = PostOrder
        fields = [
            "id",
            "site",
            "zone",
            "zone_name",
            "title",
            "body",
            "body_html",
            "version",
            "version_id",
            "updated_at",
            "attachments",
            "retired_at",
            "retired_by",
            "retire_reason",
        ]
        read_only_fields = fields

    def get_body_html(self, order) -> str:
        return str(render_markup(order.body))

    def get_version_id(self, order) -> int:
        return next(v.pk for v in order.current_version if v.number == order.version)


class PostOrderCreateSerializer(RefuseUnknownFields, serializers.Serializer):
    site = SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    zone = ReachableField(
        roles=VIEW_ROLES, queryset=Zone.objects.all(), required=False, allow_null=True
    )
    title = NamedText(max_length=TITLE_MAX)
    body = NamedText(max_length=BODY_MAX)
    reason = ReasonField()


class PostOrderRetireSerializer(RefuseUnknownFields, serializers.Serializer):
    reason = NamedText(max_length=500, help_text="Why it is no longer in force.")


RETIRED_409 = OpenApiResponse(
    response=ERROR_BODY,
    description="Already retired (`state`, with the date); a retired post order is not changed.",
)


class PostOrderChangeSerializer(RefuseUnknownFields, serializers.Serializer):
    """The next version: the version it was made on, and why; fields left out keep their
    current value."""

    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The version the change was made on."
    )
    zone = ReachableField(
        roles=VIEW_ROLES, queryset=Zone.objects.all(), required=False, allow_null=True
    )
    title = NamedText(max_length=TITLE_MAX, required=False)
    body = NamedText(max_length=BODY_MAX, required=False)
    reason = ReasonField()


@extend_schema_view(
    list=extend_schema(responses={200: PostOrderSerializer(many=True), **errors(*READ)}),
    retrieve=extend_schema(responses={200: PostOrderSerializer, **errors(*READ_ONE)}),
    create=extend_schema(
        request=PostOrderCreateSerializer,
        responses={201: PostOrderSerializer, **errors(*WRITE_ONE), 422: REFUSED_422},
        summary="Write a post order (supervisors and managers of the site)",
    ),
    partial_update=extend_schema(
        request=PostOrderChangeSerializer,
        responses={200: PostOrderSerializer, **errors(*WRITE_ONE, 409), 422: REFUSED_422},
        summary="Write the next version of a post order (409 when `version` is stale)",
    ),
)
class PostOrderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Post orders of the caller's sites, filterable by `site__code`."""

    serializer_class = PostOrderSerializer
    filterset_fields = ["site__code"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        orders = PostOrder.objects.select_related("site", "zone", "retired_by").prefetch_related(
            "attachments", _current_version()
        )
        return scoped(orders, self.request.user, VIEW_ROLES).order_by("site__code", "title", "pk")

    def _answer(self, order, code=status.HTTP_200_OK) -> Response:
        return Response(PostOrderSerializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = PostOrderCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not scoped(
            Site.objects.filter(pk=data["site"].pk), request.user, VIEW_ROLES, ""
        ).exists():
            raise Unprocessable({"site": "Not found among your sites."})
        order = services.create_post_order(
            data["site"],
            request.user,
            title=data["title"],
            body=data["body"],
            zone=data.get("zone"),
            reason=data["reason"],
        )
        return self._answer(order, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = PostOrderChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            order = services.edit_post_order(
                order,
                request.user,
                expected_version=data["version"],
                title=data.get("title", order.title),
                body=data.get("body", order.body),
                zone=data.get("zone", order.zone),
                reason=data["reason"],
            )
        except services.StaleVersion as stale:
            current = PostOrderSerializer(self.get_queryset().get(pk=order.pk)).data
            body = {**stale.message_dict, "current_version": stale.current, "current": current}
            return Response(body, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as error:
            return _retired_conflict_or_raise(error)
        return self._answer(order)

    @extend_schema(
        request=PostOrderRetireSerializer,
        responses={200: PostOrderSerializer, **errors(*WRITE_ONE), 409: RETIRED_409},
        summary="Retire a post order (supervisors and managers): no longer asked for at a "
        "shift start nor shown on the tablet",
    )
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        order = self.get_object()
        body = PostOrderRetireSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            order = services.retire_post_order(
                order, request.user, reason=body.validated_data["reason"]
            )
        except DjangoValidationError as error:
            return _retired_conflict_or_raise(error)
        return self._answer(order)


def _retired_conflict_or_raise(error: DjangoValidationError) -> Response:
    """A change of a retired post order is a 409 naming `state`; any other refusal is raised
    on to the exception handler (a 422)."""
    for field, errors_ in getattr(error, "error_dict", {}).items():
        if any(e.code == services.RETIRED for e in errors_):
            return Response(
                {field: [str(m) for e in errors_ for m in e.messages]},
                status=status.HTTP_409_CONFLICT,
            )
    raise error


def _current_version() -> Prefetch:
    """Each post order's current version (its id is what a shift start acknowledges)."""
    return Prefetch(
        "versions",
        queryset=PostOrderVersion.objects.filter(number=F("post_order__version")).only(
            "pk", "number", "post_order_id"
        ),
        to_attr="current_version",
    )
