"""Key control over the API: the site's keys and key sets with their state, the issues (who
holds what, due when), issuing one and taking one back. The same services as the key pages
(services/keys.py); the site's supervisors and managers read and act, nobody else sees them.

Status codes: 201 issued; 200 read or returned; 400 a body that does not match the schema
(an unknown field, a wrong type); 422 one refused for its content (a site, key, set or staff
member not found there, no holder, an expected return before the issue); 409 a step the
key's state does not allow (already out, already returned), naming the field; 403 a role too
low; 404 an issue (or key) of a site where you are not a supervisor or manager (guards do not
see the key box)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import DateTimeField, IdField, NamedText, RefuseUnknownFields
from facility_log.api.responses import READ, READ_ONE, WRITE_ONE, errors
from facility_log.api.schema import ERROR_BODY
from facility_log.models import Key, KeyIssue, KeySet, Site
from facility_log.scoping import ANY_ROLE, REVIEW_ROLES, scoped, scoped_to_ids, site_id_list
from facility_log.services import keys as key_services

CONFLICT = OpenApiResponse(
    ERROR_BODY,
    description="The key's state does not allow it: already out (the body names who holds "
    "it) or already returned.",
)
REFUSED = OpenApiResponse(
    ERROR_BODY,
    description="Refused for its content: a site, key, set or staff member not found there, "
    "no holder, or an expected return before the issue.",
)


class KeySetSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    current_issue = serializers.IntegerField(
        allow_null=True, help_text="The open issue of the set, if it is out."
    )

    class Meta:
        model = KeySet
        fields = ["id", "site", "label", "opens", "current_issue"]
        read_only_fields = fields


class KeySerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    key_set = serializers.CharField(
        source="key_set.label", default=None, allow_null=True, help_text="Issued with this set."
    )
    current_issue = serializers.IntegerField(
        allow_null=True, help_text="The open issue of the key (or of its set), if it is out."
    )

    class Meta:
        model = Key
        fields = ["id", "site", "label", "opens", "key_set", "current_issue"]
        read_only_fields = fields


class KeyIssueSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    key = serializers.IntegerField(source="key_id", allow_null=True)
    key_set = serializers.IntegerField(source="key_set_id", allow_null=True)
    label = serializers.CharField(source="what.label", help_text="The key's or set's label.")
    holder = serializers.CharField(
        source="holder.username", default=None, allow_null=True, help_text="A staff member."
    )
    holder_text = serializers.CharField(help_text="Who holds it, as shown on the pages.")
    issued_by = serializers.CharField(source="issued_by.username")
    received_by = serializers.CharField(
        source="received_by.username", default=None, allow_null=True
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = KeyIssue
        fields = [
            "id",
            "site",
            "key",
            "key_set",
            "label",
            "holder",
            "holder_text",
            "contractor_name",
            "contractor_company",
            "issued_at",
            "issued_by",
            "expected_return_at",
            "returned_at",
            "received_by",
            "overdue",
            "overdue_notified_at",
        ]
        read_only_fields = fields

    def get_overdue(self, issue) -> bool:
        return issue.is_overdue()


class KeyIssueCreateSerializer(RefuseUnknownFields, serializers.Serializer):
    site = NamedText(max_length=20, help_text="The site's code.")
    key = IdField(required=False, allow_null=True, help_text="A key's id (or `key_set`).")
    key_set = IdField(required=False, allow_null=True, help_text="A key set's id (or `key`).")
    holder = NamedText(
        required=False,
        allow_null=True,
        max_length=150,
        help_text="A staff member's username (or a contractor).",
    )
    contractor_name = serializers.CharField(
        required=False, allow_blank=True, max_length=150, help_text="For this issue only."
    )
    contractor_company = serializers.CharField(required=False, allow_blank=True, max_length=150)
    expected_return_at = DateTimeField()
    reason = NamedText(max_length=500)


class KeyReturnSerializer(RefuseUnknownFields, serializers.Serializer):
    reason = NamedText(max_length=500)


class KeyFilterSerializer(serializers.Serializer):
    site = serializers.CharField(required=False, max_length=20, help_text="site code")


class KeyIssueFilterSerializer(KeyFilterSerializer):
    open = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: not returned yet"
    )
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: out past its time"
    )


def _filtered(queryset, request, filter_class):
    site_ids = site_id_list(request.user, REVIEW_ROLES)
    filters = filter_class(data=request.query_params.dict())
    filters.is_valid(raise_exception=True)
    queryset = scoped_to_ids(queryset, site_ids)
    if filters.validated_data.get("site"):
        queryset = queryset.filter(site__code=filters.validated_data["site"])
    return queryset, filters.validated_data


def _open_issue(**match):
    return Subquery(KeyIssue.objects.filter(returned_at__isnull=True, **match).values("pk")[:1])


@extend_schema_view(
    list=extend_schema(
        parameters=[KeyFilterSerializer],
        responses={200: KeySetSerializer(many=True), **errors(400, *READ)},
        summary="Key sets of your sites, with the open issue of each (supervisors, managers)",
    ),
    retrieve=extend_schema(responses={200: KeySetSerializer, **errors(*READ_ONE)}),
)
class KeySetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Key sets of the sites where the caller is a supervisor or manager."""

    serializer_class = KeySetSerializer
    filter_backends: list = []

    def get_queryset(self):
        sets = (
            KeySet.objects.filter(is_active=True).select_related("site").order_by("site", "label")
        )
        sets = sets.annotate(current_issue=_open_issue(key_set=OuterRef("pk")))
        return _filtered(sets, self.request, KeyFilterSerializer)[0]


@extend_schema_view(
    list=extend_schema(
        parameters=[KeyFilterSerializer],
        responses={200: KeySerializer(many=True), **errors(400, *READ)},
        summary="Keys of your sites, with the open issue of each (supervisors, managers)",
    ),
    retrieve=extend_schema(responses={200: KeySerializer, **errors(*READ_ONE)}),
)
class KeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Keys of the sites where the caller is a supervisor or manager."""

    serializer_class = KeySerializer
    filter_backends: list = []

    def get_queryset(self):
        keys = Key.objects.filter(is_active=True).select_related("site", "key_set")
        keys = keys.order_by("site", "label").annotate(
            current_issue=Coalesce(
                _open_issue(key=OuterRef("pk")), _open_issue(key_set=OuterRef("key_set"))
            )
        )
        return _filtered(keys, self.request, KeyFilterSerializer)[0]


@extend_schema_view(
    list=extend_schema(
        parameters=[KeyIssueFilterSerializer],
        responses={200: KeyIssueSerializer(many=True), **errors(400, *READ)},
        summary="Key issues of your sites, newest first (filters: site, open, overdue)",
    ),
    retrieve=extend_schema(responses={200: KeyIssueSerializer, **errors(*READ_ONE)}),
    create=extend_schema(
        request=KeyIssueCreateSerializer,
        responses={
            201: KeyIssueSerializer,
            **errors(400, 401, 403),
            409: CONFLICT,
            422: REFUSED,
        },
        summary="Issue a key or a key set to a staff member or a named contractor",
    ),
)
class KeyIssueViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Issues of keys and sets at the sites where the caller is a supervisor or manager."""

    serializer_class = KeyIssueSerializer
    filter_backends: list = []

    def get_queryset(self):
        issues = KeyIssue.objects.select_related(
            "site", "key", "key_set", "holder", "issued_by", "received_by"
        ).order_by("-issued_at", "-id")
        issues, data = _filtered(issues, self.request, KeyIssueFilterSerializer)
        if self.action != "list":
            return issues
        if data.get("open") is not None:
            issues = issues.filter(returned_at__isnull=data["open"])
        if data.get("overdue") is not None:
            overdue = {"returned_at__isnull": True, "expected_return_at__lt": timezone.now()}
            issues = issues.filter(**overdue) if data["overdue"] else issues.exclude(**overdue)
        return issues

    def create(self, request, *args, **kwargs):
        body = KeyIssueCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        site = scoped(Site.objects.filter(code=data["site"].strip()), request.user, ANY_ROLE, "")
        site = site.first()
        if site is None:
            raise Unprocessable({"site": ["Not found among your sites."]})
        found = {**_item(site, data), "holder": _holder(site, data.get("holder"))}
        try:
            issue = key_services.issue_key(
                site,
                request.user,
                **found,
                contractor_name=data.get("contractor_name", ""),
                contractor_company=data.get("contractor_company", ""),
                expected_return_at=data["expected_return_at"],
                reason=data["reason"],
            )
        except DjangoValidationError as error:
            return _conflict_or_raise(error, key_services.ALREADY_OUT)
        return Response(
            KeyIssueSerializer(self.get_queryset().get(pk=issue.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=KeyReturnSerializer,
        responses={200: KeyIssueSerializer, **errors(*WRITE_ONE), 409: CONFLICT},
        summary="Take an issued key or set back, received by the caller (with a reason)",
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_key(self, request, pk=None):
        issue = self.get_object()
        body = KeyReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            key_services.return_key(issue, request.user, reason=body.validated_data["reason"])
        except DjangoValidationError as error:
            return _conflict_or_raise(error, key_services.RETURNED)
        return Response(KeyIssueSerializer(self.get_queryset().get(pk=issue.pk)).data)


def _item(site: Site, data: dict) -> dict:
    """The key or set named in the body, among `site`'s own."""
    if data.get("key") is not None and data.get("key_set") is not None:
        raise Unprocessable({"key_set": ["Send `key` or `key_set`, not both."]})
    if data.get("key") is not None:
        key = Key.objects.filter(site=site, pk=data["key"]).first()
        if key is None:
            raise Unprocessable({"key": [f"No key with this id at {site.code}."]})
        return {"key": key}
    if data.get("key_set") is not None:
        key_set = KeySet.objects.filter(site=site, pk=data["key_set"]).first()
        if key_set is None:
            raise Unprocessable({"key_set": [f"No key set with this id at {site.code}."]})
        return {"key_set": key_set}
    raise Unprocessable({"key": ["Send `key` or `key_set`."]})


def _holder(site: Site, username: str | None):
    """The staff member named, among `site`'s staff only (no look-up of other accounts)."""
    if not username:
        return None
    holder = key_services.staff_for_keys(site).filter(username=username.strip()).first()
    if holder is None:
        raise Unprocessable({"holder": ["Not a member of this site's staff."]})
    return holder


def _conflict_or_raise(error: DjangoValidationError, code: str) -> Response:
    """A step the key's state refuses is a 409 naming the field; any other rule is raised on
    to the exception handler (a 422)."""
    if hasattr(error, "error_dict"):
        for field, errors_ in error.error_dict.items():
            if any(e.code == code for e in errors_):
                return Response(
                    {field: [str(m) for e in errors_ for m in e.messages]},
                    status=status.HTTP_409_CONFLICT,
                )
    raise error
