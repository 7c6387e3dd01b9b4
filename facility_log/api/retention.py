"""Retention over the API: the periods that apply at a site and the incidents it holds on
legal hold (auditors and managers, as on the site's retention page), and placing or
releasing a legal hold on an incident with a reason (managers, as on the incident's page).
Every step goes through services/retention.py, which writes the history.

Placing a hold on an incident already held, or releasing one that is not, is a 409 (the
incident's state does not allow it): `reason` names the clash and `current` is the incident's
active hold, or null."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from facility_log.api.fields import RefuseUnknownFields
from facility_log.api.responses import READ_ONE, WRITE_ONE, errors
from facility_log.models import Incident, LegalHold, RecordKind
from facility_log.scoping import (
    AUDIT_ROLES,
    MANAGE_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    get_site_or_404,
    require_role,
)
from facility_log.services import retention


class PeriodOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    label = serializers.CharField()
    days = serializers.IntegerField()
    default_days = serializers.IntegerField()
    overridden = serializers.BooleanField(help_text="true: set for this site")


class LegalHoldOut(serializers.ModelSerializer):
    incident = serializers.IntegerField(source="incident_id")
    incident_number = serializers.CharField(source="incident.number")
    placed_by = serializers.CharField(source="placed_by.username")
    released_by = serializers.CharField(
        source="released_by.username", allow_null=True, default=None
    )

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "incident",
            "incident_number",
            "reason",
            "placed_by",
            "placed_at",
            "released_by",
            "released_at",
            "release_reason",
        ]
        read_only_fields = fields


class SiteRetentionOut(serializers.Serializer):
    site = serializers.CharField(source="site.code")
    periods = PeriodOut(many=True)
    legal_holds = LegalHoldOut(many=True, help_text="incidents on hold now")


@extend_schema(
    operation_id="site_retention",
    summary="Retention periods at the site and its incidents on legal hold (auditors, managers)",
    responses={200: SiteRetentionOut, **errors(*READ_ONE)},
    tags=["retention"],
)
@api_view(["GET"])
def site_retention(request, code: str):
    site = get_site_or_404(request.user, code, AUDIT_ROLES)
    holds = LegalHold.objects.filter(incident__site=site, released_at__isnull=True)
    body = {
        "site": site,
        "periods": retention.periods_for(site),
        "legal_holds": holds.select_related("incident", "placed_by", "released_by"),
    }
    return Response(SiteRetentionOut(body).data)


class HoldReasonIn(RefuseUnknownFields, serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="e.g. the court or police case")


def _hold_step(request, pk: int, step, code: int) -> Response:
    incident = get_scoped_or_404(
        Incident.objects.select_related("site"), request.user, VIEW_ROLES, pk=pk
    )
    require_role(request.user, incident.site, MANAGE_ROLES)
    given = HoldReasonIn(data=request.data)
    given.is_valid(raise_exception=True)
    fresh = LegalHold.objects.select_related("incident", "placed_by", "released_by")
    try:
        hold = step(incident, request.user, reason=given.validated_data["reason"])
    except DjangoValidationError as error:
        # The reason was given (the serializer saw to it), so the service refused the incident's
        # state: already held, or not held. A 409 with the hold as it stands.
        active = retention.active_hold(incident)
        current = LegalHoldOut(fresh.get(pk=active.pk)).data if active else None
        body = {**error.message_dict, "current": current}
        return Response(body, status=status.HTTP_409_CONFLICT)
    return Response(LegalHoldOut(fresh.get(pk=hold.pk)).data, status=code)


@extend_schema(
    operation_id="incident_legal_hold_place",
    summary="Place a legal hold on the incident, with a reason (managers)",
    request=HoldReasonIn,
    responses={201: LegalHoldOut, **errors(*WRITE_ONE, 409)},
    tags=["retention"],
)
@api_view(["POST"])
def place_hold(request, pk: int):
    return _hold_step(request, pk, retention.place_legal_hold, status.HTTP_201_CREATED)


@extend_schema(
    operation_id="incident_legal_hold_release",
    summary="Release the incident's legal hold, with a reason (managers)",
    request=HoldReasonIn,
    responses={200: LegalHoldOut, **errors(*WRITE_ONE, 409)},
    tags=["retention"],
)
@api_view(["POST"])
def release_hold(request, pk: int):
    return _hold_step(request, pk, retention.release_legal_hold, status.HTTP_200_OK)
