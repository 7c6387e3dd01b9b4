"""On site: the visitor day sheet (DESIGN.md, "on site").

One row is one visit on one site's sheet for one local day: who came (name and company as the
visitor gave them), whom they visit, when they were signed in and out, and the badge handed
over. It exists for evacuation ("who is on site now") and is nothing more: there is no person
record, so the same visitor on another day is another, unrelated row, and no page or endpoint
looks a name up across days or sites. Rows go with the site's `visitors` retention period
(30 days by default, services/retention_plans.py).
"""

from django.conf import settings
from django.db import models

from facility_log.models.base import AuditedModel, audited_history
from facility_log.models.sites import Site


class Visitor(AuditedModel):
    """A visitor on one site's day sheet (`day`: the site's local date at sign-in). Signed in
    and out by the site's guards, supervisors and managers through services/visitors.py; a row
    with no `signed_out_at` is someone on site now."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(help_text="the site's local day of the sign-in")
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    host = models.CharField(max_length=200, help_text="whom the visitor comes to see")
    badge_number = models.CharField(max_length=50, blank=True)
    signed_in_at = models.DateTimeField()
    signed_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_out_at = models.DateTimeField(null=True, blank=True)
    signed_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The guard tablet's ids of the sign-in and the sign-out (its offline outbox): a record
    # sent again finds the row instead of adding one or failing as "already signed out".
    client_uuid = models.UUIDField(unique=True, null=True, blank=True)
    signed_out_uuid = models.UUIDField(unique=True, null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["signed_in_at", "pk"]
        indexes = [models.Index(fields=["site", "day"], name="visitor_site_day")]

    def __str__(self) -> str:
        # No name here: the string shows up in admin lists, logs and history labels.
        return f"visitor #{self.pk} at site {self.site_id} on {self.day}"
