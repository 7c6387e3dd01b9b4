"""What the round endpoints share: the 422 conflict, the scoped related field and the
manager check."""

from rest_framework import serializers
from rest_framework.exceptions import APIException

from facility_log.api.errors import Unprocessable
from facility_log.models import Site
from facility_log.scoping import MANAGE_ROLES, scoped


class Conflict422(APIException):
    status_code = 422
    default_detail = "This client_uuid was used for a different record."
    default_code = "idempotency_conflict"


class ReachableField(serializers.PrimaryKeyRelatedField):
    """A related record of a site where the caller holds one of `roles`, read in one query
    (with what the service needs of it, through the queryset given); any other id gets the
    same error as a missing one (existence at other sites is not revealed)."""

    default_error_messages = {"does_not_exist": "Not found among your sites."}

    def __init__(self, *, roles, **kwargs):
        self.roles = roles
        super().__init__(**kwargs)

    def get_queryset(self):
        return scoped(super().get_queryset(), self.context["request"].user, self.roles)


def _managed_site(user, site: Site) -> Site:
    if not scoped(Site.objects.filter(pk=site.pk), user, MANAGE_ROLES, site_field="").exists():
        raise Unprocessable({"site": "No such site among the sites you manage."})
    return site
