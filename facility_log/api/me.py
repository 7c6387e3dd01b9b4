"""Who the caller is and what they hold where: what a tablet needs right after sign-in."""

from django.db import router
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from facility_log.models import Membership
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery

# The caller's active memberships with their sites' code and name, in the memberships' own
# order: compiled once per process (services/precompiled.py), the cheapest endpoint's one
# read besides the token's.
_MEMBERSHIPS = PreparedQuery(
    lambda _key, user_id: Membership.objects.filter(user_id=user_id, is_active=True).values(
        "site__code", "site__name", "role"
    ),
    # Within a 32-bit id's range: Django compiles an out-of-range integer to no query.
    {"user_id": Slot(-(2**31) + 43, Membership._meta.get_field("user"))},
)


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
    memberships = _MEMBERSHIPS.rows(
        None, using=router.db_for_read(Membership), user_id=request.user.pk
    )
    return Response(
        {
            "username": request.user.get_username(),
            "full_name": request.user.get_full_name(),
            "memberships": [
                {"site": m["site__code"], "site_name": m["site__name"], "role": m["role"]}
                for m in memberships
            ],
        }
    )
