"""Incident categories: the list a client picks from before submitting (read-only; managers
edit them in the admin). Categories are shared by every site and carry no site data, but
only someone who holds a role somewhere reads them."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from facility_log.api.permissions import SignedInAsTheRecordsAuthor
from facility_log.api.responses import READ, READ_ONE, errors
from facility_log.models import Category
from facility_log.scoping import ANY_ROLE, sites_for


class MemberOfASite(SignedInAsTheRecordsAuthor):
    """Signed in and holding a role at some site (integration accounts included)."""

    message = "Categories are for members of a site."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and (
            sites_for(request.user, ANY_ROLE).exists()
        )


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "sort_order", "is_active"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="Incident categories (active first by sort order; `category` of an incident)",
        responses={200: CategorySerializer(many=True), **errors(*READ)},
    ),
    retrieve=extend_schema(responses={200: CategorySerializer, **errors(*READ_ONE)}),
)
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Categories an incident can be filed under. Inactive ones are listed (old incidents
    point at them) with `is_active: false`; a new incident takes only an active one."""

    serializer_class = CategorySerializer
    permission_classes = [MemberOfASite]
    filter_backends: list = []
    pagination_class = None
    queryset = Category.objects.order_by("-is_active", "sort_order", "name")
