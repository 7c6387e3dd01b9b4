"""Scans: a checkpoint visited during a run (idempotent on client_uuid)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.fields import SkipField
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import RefuseUnknownFields, SlugRelatedField
from facility_log.api.pagination import KeysetPagination
from facility_log.api.parsers import JSONParser
from facility_log.api.representation import FastRepresentation
from facility_log.api.rounds.common import Conflict422, ReachableField
from facility_log.api.rows import RowList
from facility_log.models import Route, Run, Scan, ScanMethod
from facility_log.scoping import REPORT_ROLES, VIEW_ROLES, scoped, scoped_to_ids, site_id_list
from facility_log.services import rounds as round_services
from facility_log.services.rounds import IdempotencyConflict, ScanInput


class RunIdField(serializers.PrimaryKeyRelatedField):
    """A run's id, taken as given: the service reads (and locks) the run once, in the same
    query that checks the caller's role and the client_uuid, and answers a run of another
    site as a missing one ("Not found among your sites.")."""

    default_error_messages = {"does_not_exist": "Not found among your sites."}

    def __init__(self, **kwargs):
        super().__init__(queryset=Run.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= value < 2**63:  # no such id (a BigAutoField's range)
            self.fail("does_not_exist", pk_value=data)
        return value


class ScanSerializer(FastRepresentation, RefuseUnknownFields, serializers.ModelSerializer):
    run = RunIdField(required=False)
    route = ReachableField(
        roles=REPORT_ROLES,
        queryset=Route.objects.select_related("site"),
        required=False,
        write_only=True,
    )
    site = SlugRelatedField(source="run.site", slug_field="code", read_only=True)
    tag_code = serializers.CharField(write_only=True, max_length=40)
    client_uuid = serializers.UUIDField(validators=[])
    method = serializers.ChoiceField(choices=ScanMethod.choices)
    photo = serializers.FileField(
        required=False, write_only=True, help_text="Optional; send the scan as multipart."
    )

    class Meta:
        model = Scan
        fields = [
            "id",
            "site",
            "run",
            "route",
            "checkpoint",
            "tag_code",
            "client_uuid",
            "method",
            "device_time",
            "device_sent_at",
            "received_at",
            "clock_offset_seconds",
            "effective_time",
            "note",
            "photo",
        ]
        read_only_fields = [
            "id",
            "checkpoint",
            "received_at",
            "clock_offset_seconds",
            "effective_time",
        ]


# What the list's serializer reads: the scan's own columns and its run's site code.
SCAN_LIST_COLUMNS = [
    "run__site__code",
    "checkpoint_id",
    "client_uuid",
    "method",
    "device_time",
    "device_sent_at",
    "received_at",
    "clock_offset_seconds",
    "effective_time",
    "note",
]


class ScanJsonSerializer(ScanSerializer):
    """A scan sent as JSON: everything but the photo, which only a multipart body carries."""

    photo = None

    class Meta(ScanSerializer.Meta):
        fields = [f for f in ScanSerializer.Meta.fields if f != "photo"]


# The fields of a scan sent as tablets send it: JSON naming its run, without a photo.
PLAIN_SCAN_FIELDS = frozenset(
    ["run", "tag_code", "client_uuid", "method", "device_time", "device_sent_at", "note"]
)
_plain_fields: dict | None = None


def plain_scan(data) -> dict | None:
    """`ScanSerializer`'s validated data for a scan sent as tablets send it (a JSON object
    with its run's id and only the fields of PLAIN_SCAN_FIELDS, each valid), else None (the
    serializer then validates it and words the errors).

    DRF builds a serializer's fields again for every request (a deep copy of each declared
    field, each model field mapped anew): for a scan that cost more than validating it.
    These are the serializer's own fields, built once: none of them reads the serializer's
    context, and the serializer has no validator of its own nor `validate` method (checked
    when they are built; else every scan goes through the serializer), so each value is
    validated by the same code, and the result is the dict `validated_data` would be."""
    global _plain_fields
    if type(data) is not dict or "run" not in data or not PLAIN_SCAN_FIELDS.issuperset(data):
        return None
    if _plain_fields is None:
        template = ScanSerializer()
        plain = (
            not template.get_validators()
            and type(template).validate is serializers.Serializer.validate
            and not any(hasattr(template, f"validate_{name}") for name in PLAIN_SCAN_FIELDS)
        )
        fields = template.fields.items()
        _plain_fields = {n: f for n, f in fields if n in PLAIN_SCAN_FIELDS} if plain else {}
    if not _plain_fields:
        return None
    validated = {}
    for name, field in _plain_fields.items():
        try:
            validated[name] = field.run_validation(field.get_value(data))
        except SkipField:
            continue  # an optional field not sent
        except (serializers.ValidationError, DjangoValidationError):
            return None
    return validated


@extend_schema_view(
    create=extend_schema(
        # One body format per operation: generated clients cannot choose between two. A
        # scan with a photo is also read as multipart (the same fields plus `photo`), the one
        # form this schema does not list.
        request={"application/json": ScanJsonSerializer},
        responses={201: ScanSerializer, 200: ScanSerializer},
    )
)
class ScanViewSet(
    RowList,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Scans. POST records one: give `run` (or `route`, to start a run with this scan), the
    scanned `tag_code`, a `client_uuid`, the device's `device_time` and, from tablets,
    `device_sent_at` (the device clock at upload). The same client_uuid again returns the
    stored scan (200); the same client_uuid with a different payload is refused (422)."""

    serializer_class = ScanSerializer
    filterset_fields = ["run", "checkpoint", "method"]
    pagination_class = KeysetPagination
    keyset_time_field = "effective_time"
    # JSON, or multipart when a photo comes with the scan.
    parser_classes = [JSONParser, parsers.MultiPartParser]

    def get_queryset(self):
        scans = Scan.objects.select_related("run__site")
        if self.action != "list":
            return scoped(scans, self.request.user, VIEW_ROLES, "run__site")
        # Newest first in cursor pages; the sites as a literal list (scoping.site_id_list).
        ids = site_id_list(self.request.user, VIEW_ROLES)
        return scoped_to_ids(scans, ids, "run__site").only(*SCAN_LIST_COLUMNS)

    def create(self, request, *args, **kwargs):
        data = plain_scan(request.data)
        if data is None:  # anything else DRF validates, and words the errors
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        run, route = self._target(data)
        scan_input = ScanInput(
            tag_code=data["tag_code"],
            client_uuid=data["client_uuid"],
            device_time=data["device_time"],
            method=data["method"],
            device_sent_at=data.get("device_sent_at"),
            note=data.get("note", ""),
        )
        try:
            scan, created = round_services.record_scan(
                request.user, scan_input, run_id=run, route=route, photo=data.get("photo")
            )
        except IdempotencyConflict as error:
            raise Conflict422(str(error)) from error
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(scan).data, status=code)

    @staticmethod
    def _target(data):
        run, route = data.get("run"), data.get("route")
        if run is None and route is None:
            raise Unprocessable({"run": "Give the run (or the route to start one)."})
        return run, (route if run is None else None)
