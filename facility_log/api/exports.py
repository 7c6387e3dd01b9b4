"""The police package over the API: the same zip as the incident page's export button
(report.pdf, incident.json, attachments/, history.json, custody.json, manifest.json,
SHA256SUMS), with the same rules — supervisors and managers of the incident's site, a
submitted incident (it has a number), a recipient and a reason. The disclosure is recorded
before the first byte is sent; the zip is streamed from a temporary file."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.response import Response

from facility_log.api.fields import RefuseUnknownFields
from facility_log.api.responses import WRITE_ONE, errors
from facility_log.models import Incident
from facility_log.scoping import REVIEW_ROLES, get_scoped_or_404
from facility_log.services.downloads import serve_police_package


class ZipRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/zip`; errors are still JSON bodies."""

    media_type = "application/zip"
    format = "zip"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if renderer_context and renderer_context.get("response") is not None:
            renderer_context["response"]["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data)


class PolicePackageIn(RefuseUnknownFields, serializers.Serializer):
    recipient = serializers.CharField(max_length=200, help_text="agency or organisation")
    reason = serializers.CharField(max_length=1000, help_text="why it is disclosed")
    case_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="their case"
    )
    redact = serializers.BooleanField(
        required=False,
        default=False,
        help_text="leave out contact details and statements of named persons",
    )


@extend_schema(
    operation_id="incident_police_package",
    summary="Export the police package (zip); records the disclosure (supervisors, managers)",
    request=PolicePackageIn,
    responses={
        (200, "application/zip"): OpenApiResponse(
            OpenApiTypes.BINARY, description="NUMBER.zip; verify with `sha256sum -c SHA256SUMS`"
        ),
        **errors(*WRITE_ONE, 409),
    },
    tags=["incidents"],
)
@api_view(["POST"])
@renderer_classes([renderers.JSONRenderer, ZipRenderer])
def police_package(request, pk: int):
    incident = get_scoped_or_404(
        Incident.objects.select_related("site"), request.user, REVIEW_ROLES, pk=pk
    )
    given = PolicePackageIn(data=request.data)
    given.is_valid(raise_exception=True)
    if not incident.number:
        return Response(
            {"detail": "A draft has no number yet; submit it before exporting."},
            status=status.HTTP_409_CONFLICT,
        )
    return serve_police_package(incident, request.user, **given.validated_data)
