"""Who the caller is and what they hold where: what a tablet needs right after sign-in."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from facility_log.models import Membership


@extend_schema(
    responses=inline_serializer(
        "Me",
        {
            "username": serializers.CharField(),
            "full_name": serializers.CharField(),
            "memberships": serializers.ListField(child=serializers.DictField()),
        },
    )
)
@api_view(["GET"])
def me(request):
    memberships = Membership.objects.filter(user=request.user, is_active=True).select_related(
        "site"
    )
    return Response(
        {
            "username": request.user.get_username(),
            "full_name": request.user.get_full_name(),
            "memberships": [
                {"site": m.site.code, "site_name": m.site.name, "role": m.role} for m in memberships
            ],
        }
    )
