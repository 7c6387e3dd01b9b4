"""Doors, the ids door systems know them by, and the secrets their webhooks sign with."""

from django.db import models

from facility_log.models.access.choices import SourceFormat
from facility_log.models.base import AuditedModel, audited_history
from facility_log.models.sites import Site, Zone


class Door(AuditedModel):
    """A door (or gate, hatch) of a site, in one of its zones. `code` is how files and people
    name it (`D-MAIN`); source systems may name it by their own ids (`DoorExternalId`)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="doors")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="doors")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="door_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class DoorExternalId(AuditedModel):
    """The id one source system uses for a door (a Gallagher door id, a Kisi lock id)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    door = models.ForeignKey(Door, on_delete=models.PROTECT, related_name="external_ids")
    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)

    history = audited_history()

    class Meta:
        ordering = ["source", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "source", "external_id"], name="door_external_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} → {self.door_id}"


class WebhookSecret(AuditedModel):
    """The shared secret a site's webhook bodies are signed with, one per vendor (`source`):
    Kisi (HMAC-SHA256 of the raw body in `X-Signature`), UniFi Access (`Signature: t=…,v1=…`)
    and Verkada (`Verkada-Signature: t|sig`), see docs/integrations.md. Kept in clear because
    verifying needs it; left out of the history rows."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=SourceFormat.choices, default="kisi")
    secret = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    history = audited_history(excluded_fields=["secret"])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "source"], name="webhook_secret_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source} webhook secret for site {self.site_id}"
