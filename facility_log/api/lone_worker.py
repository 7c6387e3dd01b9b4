"""Lone-worker check-ins over the API (services/lone_worker.py, docs/lone-worker.md).

`POST /api/v1/check-ins/`: a guard's "I'm OK" on its own (the tablet sends it in its outbox
batch, `POST /api/v1/sync/` type `check_in`): 201 stored, 200 the same check-in sent again,
400 a body that does not match the schema, 422 refused for its content (a shift not among
yours, a time outside the shift, the client_uuid used for another check-in), 403 not the
shift's guard. It carries the shift and the time, nothing else: an unknown field is refused.

`GET /api/v1/sites/{code}/lone-worker-policy/`: the site's rule (anyone with a role there);
`PUT` the same: a manager sets it, with a reason kept in the history."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import NamedText, RefuseUnknownFields
from facility_log.api.responses import READ_ONE, WRITE_ONE, errors
from facility_log.api.schema import ERROR_BODY
from facility_log.api.sync import SyncCheckInRecordSerializer
from facility_log.models import CheckIn, LoneWorkerPolicy, Site
from facility_log.scoping import (
    MANAGE_ROLES,
    VIEW_ROLES,
    get_site_or_404,
    require_role,
)
from facility_log.services import lone_worker
from facility_log.services.sync import Outcome, SyncRecord, sync_records


class CheckInSerializer(SyncCheckInRecordSerializer):
    """The check-in record of the sync batch, without its `type`."""

    type = None


class CheckInOut(serializers.ModelSerializer):
    shift = serializers.IntegerField(source="shift_id")

    class Meta:
        model = CheckIn
        fields = ["id", "shift", "checked_in_at", "received_at"]
        read_only_fields = fields


@extend_schema(
    request=CheckInSerializer,
    responses={
        201: OpenApiResponse(CheckInOut, description="The check-in, stored."),
        200: OpenApiResponse(CheckInOut, description="Sent before: the same check-in."),
        **errors(400, 401, 403),
        422: OpenApiResponse(
            ERROR_BODY,
            description="Refused for its content: a shift not among yours, a time outside "
            "the shift, or the client_uuid used for another check-in.",
        ),
    },
    summary="Check in as a lone worker: \"I'm OK\" (the shift's guard, idempotent on client_uuid)",
)
@api_view(["POST"])
@parser_classes([JSONParser])
def check_in(request):
    serializer = CheckInSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    try:
        refs = CheckInSerializer.refs(data)
    except serializers.ValidationError as refused:
        # Both or neither of `shift` and `shift_uuid`: a rule the schema cannot state.
        raise Unprocessable(refused.detail) from None
    (result,) = sync_records(request.user, [SyncRecord(type="check_in", fields=data, refs=refs)])
    if result.outcome == Outcome.FORBIDDEN:
        return Response(result.errors, status=status.HTTP_403_FORBIDDEN)
    if result.outcome not in (Outcome.CREATED, Outcome.SAME):
        # The body matched the schema: a shift not (yet) among yours is its content.
        raise Unprocessable(result.errors or {"detail": ["Refused."]})
    code = status.HTTP_201_CREATED if result.outcome == Outcome.CREATED else status.HTTP_200_OK
    return Response(CheckInOut(CheckIn.objects.get(pk=result.id)).data, status=code)


class PolicyOut(serializers.Serializer):
    site = serializers.CharField()
    enabled = serializers.BooleanField()
    interval_minutes = serializers.IntegerField(help_text="How often the tablet asks.")
    grace_minutes = serializers.IntegerField(help_text="How long after it is due it may come.")
    changed_at = serializers.DateTimeField(allow_null=True, help_text="Null: never set.")


class PolicyIn(RefuseUnknownFields, serializers.Serializer):
    enabled = serializers.BooleanField()
    interval_minutes = serializers.IntegerField(
        min_value=lone_worker.MIN_INTERVAL, max_value=lone_worker.MAX_INTERVAL
    )
    grace_minutes = serializers.IntegerField(
        min_value=lone_worker.MIN_GRACE,
        max_value=lone_worker.MAX_GRACE,
        help_text="Shorter than the interval.",
    )
    reason = NamedText(max_length=500, help_text="Why; kept in the history.")


def _policy_body(site: Site, policy: LoneWorkerPolicy | None) -> dict:
    policy = policy or LoneWorkerPolicy(site=site, changed_at=None)
    return {
        "site": site.code,
        "enabled": policy.enabled,
        "interval_minutes": policy.interval_minutes,
        "grace_minutes": policy.grace_minutes,
        "changed_at": policy.changed_at,
    }


@extend_schema(
    methods=["GET"],
    operation_id="site_lone_worker_policy",
    responses={200: PolicyOut, **errors(*READ_ONE)},
    summary="The site's lone-worker check-in rule",
)
@extend_schema(
    methods=["PUT"],
    operation_id="site_lone_worker_policy_set",
    request=PolicyIn,
    responses={
        200: PolicyOut,
        **errors(*WRITE_ONE),
        422: OpenApiResponse(
            ERROR_BODY,
            description="Refused for its content: a grace period not shorter than the "
            "interval, a reason of spaces only.",
        ),
    },
    summary="Set the site's lone-worker check-in rule, with a reason (managers)",
)
@api_view(["GET", "PUT"])
@parser_classes([JSONParser])
def site_policy(request, code: str):
    site = get_site_or_404(request.user, code, VIEW_ROLES)
    if request.method == "GET":
        return Response(PolicyOut(_policy_body(site, lone_worker.policy_for(site))).data)
    require_role(request.user, site, MANAGE_ROLES)
    given = PolicyIn(data=request.data)
    given.is_valid(raise_exception=True)
    policy = lone_worker.set_lone_worker_policy(site, request.user, **given.validated_data)
    return Response(PolicyOut(_policy_body(site, policy)).data)
