"""Checkpoints: the tagged places a guard scans (tag codes only for managers)."""

from rest_framework import mixins, serializers, viewsets

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import RefuseUnknownFields, SlugRelatedField
from facility_log.api.rounds.common import _managed_site
from facility_log.api.sites import ReasonField
from facility_log.models import Checkpoint, Site, Zone
from facility_log.scoping import MANAGE_ROLES, VIEW_ROLES, scoped, sites_for
from facility_log.services import rounds as round_services


class CheckpointSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    site = SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.all())
    tag_code = serializers.SerializerMethodField()
    reason = ReasonField()

    class Meta:
        model = Checkpoint
        fields = ["id", "site", "zone", "name", "instructions", "is_active", "tag_code", "reason"]
        read_only_fields = ["id"]

    def get_tag_code(self, checkpoint) -> str | None:
        if "managed_site_ids" not in self.context:
            user = self.context["request"].user
            managed = sites_for(user, MANAGE_ROLES).values_list("pk", flat=True)
            self.context["managed_site_ids"] = set(managed)
        if checkpoint.site_id in self.context["managed_site_ids"]:
            return checkpoint.tag_display
        return None


class CheckpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Checkpoints of the caller's sites; managers add and change them and see tag codes."""

    serializer_class = CheckpointSerializer
    filterset_fields = ["site__code", "zone", "is_active"]

    def get_queryset(self):
        return scoped(Checkpoint.objects.select_related("site"), self.request.user, VIEW_ROLES)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        site = _managed_site(self.request.user, data.pop("site"))
        data.pop("is_active", None)
        serializer.instance = round_services.create_checkpoint(site, self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("site", serializer.instance.site) != serializer.instance.site:
            raise Unprocessable({"site": "A checkpoint cannot move to another site."})
        # A PATCH may leave any field out; without a reason the change is refused (422).
        reason = data.pop("reason", "")
        round_services.update_checkpoint(
            serializer.instance, self.request.user, reason=reason, **data
        )
