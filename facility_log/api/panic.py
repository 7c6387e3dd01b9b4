"""`POST /api/v1/panic/`: a press of the tablet's panic button, on its own (the tablet sends
it in its outbox batch, `POST /api/v1/sync/` type `panic`, first of all; this endpoint is the
same record for a client that sends one record per request).

201 the duress alarm raised; 200 the same press sent again (the same alarm); 400 a body that
does not match the schema; 422 one refused for its content (a site or checkpoint not among
yours, named; the client_uuid used for another press); 403 a role too low. No position is
taken: the body has no field for one, and an unknown field is refused."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from facility_log.api.alarms import AlarmSerializer
from facility_log.api.errors import Unprocessable
from facility_log.api.responses import errors
from facility_log.api.schema import ERROR_BODY
from facility_log.api.sync import SyncPanicRecordSerializer
from facility_log.models import Alarm
from facility_log.scoping import VIEW_ROLES, scoped_to_ids, site_id_list
from facility_log.services import alarm_priorities
from facility_log.services.sync import Outcome, SyncRecord, sync_records


class PanicSerializer(SyncPanicRecordSerializer):
    """The panic record of the sync batch, without its `type`."""

    type = None


@extend_schema(
    request=PanicSerializer,
    responses={
        201: OpenApiResponse(AlarmSerializer, description="The duress alarm raised."),
        200: OpenApiResponse(AlarmSerializer, description="Sent before: the same alarm."),
        **errors(400, 401, 403),
        422: OpenApiResponse(
            ERROR_BODY,
            description="Refused for its content: a site or checkpoint not among yours, a "
            "shift not yours, or the client_uuid used for another press.",
        ),
    },
    summary="Press the panic button: raise a duress alarm (guards, idempotent on client_uuid)",
)
@api_view(["POST"])
@parser_classes([JSONParser])
def panic(request):
    serializer = PanicSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    data["site"] = data["site"].strip()
    try:
        refs = PanicSerializer.refs(data)
    except serializers.ValidationError as refused:
        # Both `shift` and `shift_uuid`: a rule the schema cannot state, so 422.
        raise Unprocessable(refused.detail) from None
    (result,) = sync_records(request.user, [SyncRecord(type="panic", fields=data, refs=refs)])
    if result.outcome == Outcome.FORBIDDEN:
        return Response(result.errors, status=status.HTTP_403_FORBIDDEN)
    if result.outcome == Outcome.IDEMPOTENCY:
        return Response(result.errors, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if result.outcome not in (Outcome.CREATED, Outcome.SAME):
        # The body matched the schema: a site or checkpoint not among yours is its content.
        raise Unprocessable(result.errors or {"detail": ["Refused."]})
    site_ids = site_id_list(request.user, VIEW_ROLES)
    alarms = alarm_priorities.with_priority(scoped_to_ids(Alarm.objects.all(), site_ids), site_ids)
    alarm = alarms.select_related("site", "panic__guard", "panic__last_checkpoint").get(
        pk=result.id
    )
    code = status.HTTP_201_CREATED if result.outcome == Outcome.CREATED else status.HTTP_200_OK
    return Response(AlarmSerializer(alarm).data, status=code)
