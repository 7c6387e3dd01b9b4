"""The auditors' logs over the API, with the same permission as the /audit/ pages (auditors
and managers, over the sites they audit): the view log (who read which personal data, when,
by which route; services/view_log.py) and the disclosure log (who handed what to whom and
why; services/disclosures.py). Someone who audits no site gets 403.

Both are append-only and grow without end, so both page on the id, newest first: a page
costs the same however long the log (`before` = the `older` of the previous page).

A filter the schema allows but that cannot be applied is a 422 naming it: a `site` code that
is not among the sites you audit, a `day_to` before `day_from`."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.responses import READ, errors
from facility_log.models import Disclosure, RecordView
from facility_log.scoping import AUDIT_ROLES, scoped, sites_for
from facility_log.services import view_log
from facility_log.services.times import check_filter_day

MAX_ID = 2**63 - 1
PAGE_SIZE = 50


def _audited_sites(user) -> list:
    sites = list(sites_for(user, AUDIT_ROLES))
    if not sites:
        raise PermissionDenied("The audit logs are for auditors and managers.")
    return sites


class _Page(serializers.Serializer):
    before = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="the `older` of the last page"
    )
    site = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text="site code"
    )

    def validate_site(self, code: str):
        if not code:
            return None
        site = self.context["sites"].get(code)
        if site is None:
            # "does not exist": a 422 when it is the only fault (api/errors.py).
            raise serializers.ValidationError(
                "No such site among the sites you audit.", code="does_not_exist"
            )
        return site

    @staticmethod
    def refusals(data: dict) -> dict:
        """What a schema-valid filter cannot mean (a 422, checked once the types are right)."""
        return {}


class ViewLogFilter(_Page):
    user = serializers.CharField(
        required=False, allow_blank=True, max_length=150, help_text="username contains"
    )
    record = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="number or label contains"
    )
    via = serializers.ChoiceField(choices=RecordView.Via.choices, required=False)
    day_from = serializers.DateField(
        required=False, help_text="a local day of each site", validators=[check_filter_day]
    )
    day_to = serializers.DateField(
        required=False, help_text="a local day, included", validators=[check_filter_day]
    )

    @staticmethod
    def refusals(data: dict) -> dict:
        first, last = data.get("day_from"), data.get("day_to")
        if first and last and last < first:
            return {"day_to": ["The last day is before the first."]}
        return {}


class RecordViewOut(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    viewer = serializers.CharField(source="viewer_name")

    class Meta:
        model = RecordView
        fields = [
            "id",
            "site",
            "viewed_at",
            "viewer",
            "via",
            "object_type",
            "object_pk",
            "object_label",
            "row_count",
        ]
        read_only_fields = fields


class ViewLogPageOut(serializers.Serializer):
    results = RecordViewOut(many=True)
    older = serializers.IntegerField(
        allow_null=True, help_text="pass as `before` for the next (older) page; null: the last"
    )


class DisclosureOut(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    disclosed_by = serializers.CharField(source="disclosed_by_name")

    class Meta:
        model = Disclosure
        fields = [
            "id",
            "site",
            "disclosed_at",
            "disclosed_by",
            "object_type",
            "object_pk",
            "object_label",
            "recipient",
            "case_number",
            "reason",
            "redactions",
            "package_sha256",
        ]
        read_only_fields = fields


class DisclosurePageOut(serializers.Serializer):
    results = DisclosureOut(many=True)
    older = serializers.IntegerField(allow_null=True)


def _filters(serializer_class, request, sites) -> dict:
    given = serializer_class(
        data=request.query_params.dict(), context={"sites": {s.code: s for s in sites}}
    )
    given.is_valid(raise_exception=True)
    refused = serializer_class.refusals(given.validated_data)
    if refused:
        raise Unprocessable(refused)
    return given.validated_data


@extend_schema(
    operation_id="audit_view_log",
    summary="The view log of the sites you audit, newest first (auditors, managers)",
    parameters=[ViewLogFilter],
    responses={200: ViewLogPageOut, **errors(400, *READ)},
    tags=["audit"],
)
@api_view(["GET"])
def view_log_list(request):
    sites = _audited_sites(request.user)
    data = _filters(ViewLogFilter, request, sites)
    filters = view_log.ViewLogFilters(
        site=data.get("site"),
        user=data.get("user", "").strip(),
        record=data.get("record", "").strip(),
        via=data.get("via", ""),
        day_from=data.get("day_from"),
        day_to=data.get("day_to"),
    )
    page = view_log.search_view_log(request.user, filters, before=data.get("before"), audited=sites)
    return Response(ViewLogPageOut({"results": page.rows, "older": page.older}).data)


@extend_schema(
    operation_id="audit_disclosures",
    summary="The disclosure log of the sites you audit, newest first (auditors, managers)",
    parameters=[_Page],
    responses={200: DisclosurePageOut, **errors(400, *READ)},
    tags=["audit"],
)
@api_view(["GET"])
def disclosure_list(request):
    sites = _audited_sites(request.user)
    data = _filters(_Page, request, sites)
    rows = scoped(Disclosure.objects.select_related("site"), request.user, AUDIT_ROLES)
    if data.get("site"):
        rows = rows.filter(site=data["site"])
    if data.get("before"):
        rows = rows.filter(pk__lt=data["before"])
    page = list(rows.order_by("-pk")[: PAGE_SIZE + 1])
    older = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    return Response(DisclosurePageOut({"results": page[:PAGE_SIZE], "older": older}).data)
