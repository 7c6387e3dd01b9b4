"""The visitor day sheet over the API (guards, supervisors and managers of the site): one
site's sheet of one local day, the site's visitors on site now (the evacuation list),
signing a visitor in on today's sheet and signing one out.

One site and one day per call (PRIVACY.md): the lists take no query parameters at all — a
`?name=`, `?search=` or any other is a 400 naming it, so no call looks a visitor up by name
or across days. A day that is not a date (YYYY-MM-DD) has no sheet: 404. Signing out a
visitor already signed out is a 409."""

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from facility_log.api.fields import NamedText, RefuseUnknownFields
from facility_log.api.responses import READ_ONE, WRITE_ONE, errors
from facility_log.models import Site, Visitor
from facility_log.scoping import REPORT_ROLES, get_scoped_or_404, get_site_or_404
from facility_log.services import visitors
from facility_log.services.times import check_filter_day


class VisitorOut(serializers.ModelSerializer):
    signed_in_by = serializers.CharField(source="signed_in_by.username")
    signed_out_by = serializers.CharField(
        source="signed_out_by.username", allow_null=True, default=None
    )

    class Meta:
        model = Visitor
        fields = [
            "id",
            "day",
            "name",
            "company",
            "host",
            "badge_number",
            "signed_in_at",
            "signed_in_by",
            "signed_out_at",
            "signed_out_by",
        ]
        read_only_fields = fields


class VisitorSheetOut(serializers.Serializer):
    site = serializers.CharField(source="site.code")
    day = serializers.DateField(
        allow_null=True,
        help_text="the sheet's day; null: on site now",
        validators=[check_filter_day],
    )
    visitors = VisitorOut(many=True)


class VisitorIn(RefuseUnknownFields, serializers.Serializer):
    name = NamedText(max_length=200)
    host = NamedText(max_length=200, help_text="whom the visitor comes to see")
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    badge_number = serializers.CharField(max_length=50, required=False, allow_blank=True)


def _site(request, code: str) -> Site:
    return get_site_or_404(request.user, code, REPORT_ROLES)


def _refuse_query(request) -> None:
    # No filter of any kind: the sheet is the whole of one site's day, never a search.
    if request.query_params:
        raise ValidationError(
            {name: ["This list takes no query parameters."] for name in request.query_params}
        )


def _sheet(site: Site, day: date | None, rows) -> Response:
    return Response(VisitorSheetOut({"site": site, "day": day, "visitors": rows}).data)


@extend_schema(
    operation_id="visitor_sheet",
    summary="One site's visitor sheet of one local day, YYYY-MM-DD (guards, supervisors, managers)",
    responses={200: VisitorSheetOut, **errors(400, *READ_ONE)},
    tags=["visitors"],
)
@api_view(["GET"])
def day_sheet(request, code: str, day: str):
    site = _site(request, code)
    _refuse_query(request)
    try:
        sheet_day = date.fromisoformat(day)
    except ValueError:
        raise Http404("No sheet for this day.") from None
    return _sheet(site, sheet_day, visitors.day_sheet(site, sheet_day))


@extend_schema(
    operation_id="visitor_on_site",
    summary="Everyone signed in at the site and not out: the evacuation list",
    responses={200: VisitorSheetOut, **errors(400, *READ_ONE)},
    tags=["visitors"],
)
@api_view(["GET"])
def on_site(request, code: str):
    site = _site(request, code)
    _refuse_query(request)
    return _sheet(site, None, visitors.on_site_now(site).select_related("signed_out_by"))


@extend_schema(
    operation_id="visitor_sign_in",
    summary="Sign a visitor in on the site's sheet of today",
    request=VisitorIn,
    responses={201: VisitorOut, **errors(*WRITE_ONE)},
    tags=["visitors"],
)
@api_view(["POST"])
def sign_in(request, code: str):
    site = _site(request, code)
    given = VisitorIn(data=request.data)
    given.is_valid(raise_exception=True)
    try:
        visitor = visitors.sign_in_visitor(site, request.user, **given.validated_data)
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict) from None
    return Response(VisitorOut(visitor).data, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="visitor_sign_out",
    summary="Sign a visitor out now",
    request=None,
    responses={200: VisitorOut, **errors(*WRITE_ONE, 409)},
    tags=["visitors"],
)
@api_view(["POST"])
def sign_out(request, code: str, pk: int):
    site = _site(request, code)
    visitor = get_scoped_or_404(
        Visitor.objects.filter(site=site), request.user, REPORT_ROLES, pk=pk
    )
    if request.data:
        raise ValidationError(
            {name: ["Unknown field; it cannot be set here."] for name in request.data}
        )
    try:
        visitor = visitors.sign_out_visitor(visitor, request.user)
    except visitors.AlreadySignedOut as error:
        return Response(error.message_dict, status=status.HTTP_409_CONFLICT)
    fresh = Visitor.objects.select_related("signed_in_by", "signed_out_by").get(pk=visitor.pk)
    return Response(VisitorOut(fresh).data)
