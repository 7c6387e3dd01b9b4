"""Sites, zones and who holds which role where."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from facility_log.models.base import AuditedModel, audited_history


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        # "does_not_exist": a well-formed name of no known zone, answered by the API as 422
        # like any other name of a thing that does not exist.
        raise ValidationError(
            f"{value!r} is not an IANA time zone (e.g. Europe/Berlin).", code="does_not_exist"
        )


SITE_CODE_FIXED = (
    "A site's code cannot be changed: it is part of every incident number already issued "
    "and of the exports made from them. Change the name instead, or create a new site."
)


class Site(AuditedModel):
    """A facility: the unit that owns every record and every membership.

    `code` is short and uppercase because it prefixes incident numbers (HQ-2026-0042).
    Sites are deactivated, never deleted.
    """

    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z][A-Z0-9]{1,11}$",
                "2 to 12 capital letters or digits, starting with a letter (e.g. HQ).",
            )
        ],
    )
    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA zone"
    )
    address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    @classmethod
    def from_db(cls, db, field_names, values):
        site = super().from_db(db, field_names, values)
        # Remembered as loaded so that a changed code is refused without another query.
        site._stored_code = site.__dict__.get("code")
        return site

    def code_changed(self) -> bool:
        stored = getattr(self, "_stored_code", None)
        return not self._state.adding and stored is not None and stored != self.code

    def clean(self):
        super().clean()
        if self.code_changed():
            raise ValidationError({"code": SITE_CODE_FIXED})

    def save(self, *args, **kwargs):
        # The last guard, for any path that skips the forms and services (a shell, a
        # script): the code is part of issued numbers, whoever asks.
        if self.code_changed():
            raise ValidationError({"code": SITE_CODE_FIXED})
        super().save(*args, **kwargs)
        self._stored_code = self.code

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Zone(AuditedModel):
    """An area inside a site (lobby, car park, server room) that records point to."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="zones")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="zone_name_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.code} / {self.name}"


class Role(models.TextChoices):
    GUARD = "guard", _("Guard")
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Manager")
    AUDITOR = "auditor", _("Auditor")
    INTEGRATION = "integration", _("Integration")


class Membership(AuditedModel):
    """One user's role at one site. A user may hold several roles at several sites.

    Ending a membership deactivates it; the row stays so history keeps who held which role.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site", "role"], name="membership_unique_user_site_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} at {self.site.code}"
