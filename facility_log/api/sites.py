"""Sites, zones and memberships over the API. Reading a site or its zones needs a role
there; changing them, or seeing memberships at all, needs the manager role."""

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import NamedText, RefuseUnknownFields, SlugRelatedField
from facility_log.models import Membership, Site, Zone
from facility_log.models.sites import SITE_CODE_FIXED
from facility_log.scoping import MANAGE_ROLES, VIEW_ROLES, scoped, sites_for
from facility_log.services import sites as site_services

User = get_user_model()


class ReasonField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("help_text", "Why this change is made; kept in the history.")
        super().__init__(**kwargs)


class SiteSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    reason = ReasonField(required=False)

    class Meta:
        model = Site
        fields = ["id", "code", "name", "time_zone", "address", "is_active", "reason"]
        read_only_fields = ["id", "is_active"]


class SiteUpdateSerializer(SiteSerializer):
    reason = ReasonField()

    class Meta(SiteSerializer.Meta):
        read_only_fields = ["id", "code"]

    def to_internal_value(self, data):
        # Not the generic "unknown field": say why the code is not in this body.
        if isinstance(data, Mapping) and "code" in data:
            raise serializers.ValidationError({"code": [SITE_CODE_FIXED]})
        return super().to_internal_value(data)


class ZoneSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    site = SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    name = NamedText(max_length=Zone._meta.get_field("name").max_length)
    reason = ReasonField()

    class Meta:
        model = Zone
        fields = ["id", "site", "name", "description", "is_active", "reason"]
        read_only_fields = ["id"]


class MembershipSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    site = SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    user = SlugRelatedField(slug_field="username", queryset=User.objects.all())
    reason = ReasonField()

    class Meta:
        model = Membership
        fields = ["id", "site", "user", "role", "is_active", "reason"]
        read_only_fields = ["id", "is_active"]


def pop_reason(data: dict) -> str:
    """The reason of a change. Partial updates make every field optional; not this one."""
    reason = str(data.pop("reason", "") or "").strip()
    if not reason:
        raise Unprocessable({"reason": ["This field is required."]})
    return reason


class EndMembershipSerializer(RefuseUnknownFields, serializers.Serializer):
    reason = ReasonField()


def _writable_site(user, site: Site) -> Site:
    """The site a write targets, refused like a missing one when the user cannot manage it."""
    if not sites_for(user, MANAGE_ROLES).filter(pk=site.pk).exists():
        raise Unprocessable({"site": ["No such site among the sites you manage."]})
    return site


@extend_schema_view(
    create=extend_schema(summary="Create a site (administrators only)"),
    partial_update=extend_schema(request=SiteUpdateSerializer),
    update=extend_schema(request=SiteUpdateSerializer),
)
class SiteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Sites the caller holds a role at."""

    serializer_class = SiteSerializer
    lookup_field = "code"

    def get_queryset(self):
        return sites_for(self.request.user, VIEW_ROLES)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        reason = data.pop("reason", "") or "site created through the API"
        serializer.instance = site_services.create_site(self.request.user, reason=reason, **data)

    def update(self, request, *args, **kwargs):
        site = self.get_object()
        serializer = SiteUpdateSerializer(site, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = pop_reason(data)
        site_services.update_site(site, request.user, reason=reason, **data)
        return Response(SiteSerializer(site).data)


class ZoneViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Zones of the sites the caller holds a role at; managers add and change them."""

    serializer_class = ZoneSerializer
    filterset_fields = ["site__code", "is_active"]

    def get_queryset(self):
        return scoped(Zone.objects.select_related("site"), self.request.user, VIEW_ROLES)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        site = _writable_site(self.request.user, data.pop("site"))
        data.pop("is_active", None)  # a new zone is active; deactivate it with an update
        serializer.instance = site_services.create_zone(site, self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("site", serializer.instance.site) != serializer.instance.site:
            raise Unprocessable({"site": ["A zone cannot move to another site."]})
        reason = pop_reason(data)
        site_services.update_zone(serializer.instance, self.request.user, reason=reason, **data)


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Who holds which role at the sites the caller manages. Ending one is a POST to
    `end/` with a reason (memberships are never deleted)."""

    serializer_class = MembershipSerializer
    filterset_fields = ["site__code", "role", "is_active"]

    def get_queryset(self):
        return scoped(
            Membership.objects.select_related("site", "user"), self.request.user, MANAGE_ROLES
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        site = _writable_site(self.request.user, data.pop("site"))
        serializer.instance = site_services.grant_membership(site, self.request.user, **data)

    def create(self, request, *args, **kwargs):
        try:
            return super().create(request, *args, **kwargs)
        except PermissionDenied as error:
            raise Unprocessable({"site": [str(error)]}) from error

    @extend_schema(request=EndMembershipSerializer, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        membership = self.get_object()
        serializer = EndMembershipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site_services.end_membership(
            membership, request.user, reason=serializer.validated_data["reason"]
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_200_OK)
