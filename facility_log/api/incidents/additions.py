"""What is added to an incident over the API: supplements and attachments (listed and
added), and persons, vehicles and property on a draft."""

from drf_spectacular.utils import extend_schema
from rest_framework import parsers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.incidents.serializers import (
    STATE_CONFLICT,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    PersonSerializer,
    PropertyItemSerializer,
    SupplementSerializer,
    VehicleSerializer,
)
from facility_log.api.pagination import Pagination
from facility_log.services import incidents as svc
from facility_log.services import view_log


class IncidentAdditionActions:
    """Mixed into IncidentViewSet (views.py), whose `_input` this uses."""

    @extend_schema(
        methods=["post"],
        request=SupplementSerializer,
        responses={201: SupplementSerializer, 409: STATE_CONFLICT},
    )
    @extend_schema(methods=["get"], responses=SupplementSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=Pagination)
    def supplements(self, request, pk=None):
        incident = self.get_object()
        if request.method == "GET":
            view_log.incident_read(request.user, incident, view_log.Via.API, "supplements")
            rows = incident.supplements.select_related("author").order_by("created_at", "pk")
            return self._page(rows, SupplementSerializer)
        data = self._input(SupplementSerializer)
        supplement = svc.add_supplement(
            incident, request.user, text=data["text"], reason=data["reason"]
        )
        return Response(SupplementSerializer(supplement).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, 200: AttachmentSerializer, 409: STATE_CONFLICT},
        description="Attach a file. The same bytes again return the stored attachment (200).",
    )
    @extend_schema(methods=["get"], responses=AttachmentSerializer(many=True))
    @action(
        detail=True,
        methods=["get", "post"],
        # A file upload is the one body that is not JSON.
        parser_classes=[parsers.MultiPartParser],
        pagination_class=Pagination,
    )
    def attachments(self, request, pk=None):
        incident = self.get_object()
        if request.method == "GET":
            view_log.incident_read(request.user, incident, view_log.Via.API, "attachments")
            rows = incident.attachments.select_related("uploaded_by", "incident").order_by("pk")
            return self._page(rows, AttachmentSerializer)
        data = self._input(AttachmentUploadSerializer)
        original = None
        if data.get("redacted_from"):
            original = incident.attachments.filter(pk=data["redacted_from"]).first()
            if original is None:
                raise Unprocessable({"redacted_from": "No such attachment here."})
        attachment, created = svc.store_attachment(
            incident,
            request.user,
            upload=data["file"],
            description=data.get("description", ""),
            redacted_from=original,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(AttachmentSerializer(attachment).data, status=code)

    @extend_schema(request=PersonSerializer, responses={201: PersonSerializer})
    @action(detail=True, methods=["post"])
    def persons(self, request, pk=None):
        """Add a person (role in this incident only) to a draft."""
        incident = self.get_object()
        data = self._input(PersonSerializer)
        person = svc.add_person(incident, request.user, **data)
        return Response(PersonSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VehicleSerializer, responses={201: VehicleSerializer})
    @action(detail=True, methods=["post"])
    def vehicles(self, request, pk=None):
        """Add a vehicle to a draft."""
        incident = self.get_object()
        data = self._input(VehicleSerializer)
        vehicle = svc.add_vehicle(incident, request.user, **data)
        return Response(VehicleSerializer(vehicle).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PropertyItemSerializer, responses={201: PropertyItemSerializer})
    @action(detail=True, methods=["post"], url_path="property")
    def property_items(self, request, pk=None):
        """Add stolen, damaged, recovered or found property to a draft."""
        incident = self.get_object()
        data = self._input(PropertyItemSerializer)
        item = svc.add_property_item(incident, request.user, **data)
        return Response(PropertyItemSerializer(item).data, status=status.HTTP_201_CREATED)

    def _page(self, rows, serializer_class) -> Response:
        """A nested list, paged like every other list of the API."""
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)
