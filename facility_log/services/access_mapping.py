"""How each vendor's event types become the neutral vocabulary, and the page managers map the
rest from.

Resolution for one event, first match wins:

1. a mapping a manager made for this site (`VendorTypeMapping` with a site), by type name;
2. a mapping an administrator made for every site (`VendorTypeMapping` without a site);
3. the vendor's published defaults below: for Gallagher by type id, then by type group id
   (Command Centre's `/api/events/groups`), for the webhook vendors by their event names;
4. `other`, with the vendor's type kept beside it and listed for mapping.

The defaults come from the vendors' documents, never from guessed names (docs/integrations.md
cites each source). Gallagher ids are stable across Command Centre versions while the types in
a group grow ("we frequently add new varieties of 'access denied'"), so a type id wins over its
group and a new denial type still lands in `denied` through its group.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import Count, Q

from facility_log.models import (
    AccessEvent,
    DenialReason,
    EventType,
    Site,
    SourceFormat,
    VendorTypeMapping,
)
from facility_log.scoping import MANAGE_ROLES, require_role
from facility_log.services.audit import audited_change
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery

E, R = EventType, DenialReason
NEUTRAL = frozenset(EventType.values) - {EventType.MISSED_CHECK_IN}  # no door reports one

# Gallagher Command Centre event type ids (the `type.id` of an event), from a Command Centre
# `/api/events/groups` listing (166 groups, 1,382 types). Only types whose meaning is certain.
GALLAGHER_TYPES: dict[str, tuple[str, str]] = {
    "20001": (E.GRANTED, ""),  # Door Access Granted
    "20002": (E.GRANTED, ""),  # Level Access Granted
    "20003": (E.GRANTED, ""),  # Card Exit Granted
    "20047": (E.GRANTED, ""),  # Elevator Access Granted
    "20091": (E.GRANTED, ""),  # Salto Door Access Granted
    "20222": (E.GRANTED, ""),  # Access Granted with PIN Exemption
    "15800": (E.GRANTED, ""),  # Access Granted - Mobile Reader
    "15816": (E.GRANTED, ""),  # Card Exit Granted - Mobile Reader
    "42601": (E.GRANTED, ""),  # Engage Access Granted
    "23029": (E.GRANTED, ""),  # Button Release Granted (group "Non-Card Door Unlock")
    "23052": (E.GRANTED, ""),  # Code only Access Granted
    "20013": (E.DENIED, R.NO_ACCESS_RIGHTS),  # No Zone Privilege
    "15803": (E.DENIED, R.NO_ACCESS_RIGHTS),  # No Zone Privilege - Mobile Reader
    "20012": (E.DENIED, R.OUT_OF_SCHEDULE),  # No access at this time
    "20110": (E.DENIED, R.OUT_OF_SCHEDULE),  # Terminal: No access at this time
    "15801": (E.DENIED, R.OUT_OF_SCHEDULE),  # No access at this time - Mobile Reader
    "42602": (E.DENIED, R.OUT_OF_SCHEDULE),  # Engage Access Denied - Not within schedule
    "20011": (E.DENIED, R.INVALID_FACILITY_CODE),  # Wrong Facility Code
    "20069": (E.DENIED, R.INVALID_FACILITY_CODE),  # Terminal: Bad Facility Code
    "20018": (E.DENIED, R.UNKNOWN_CREDENTIAL),  # Unauthorised Card
    "20019": (E.DENIED, R.ANTIPASSBACK),  # Passback Attempted
    "20041": (E.DENIED, R.INVALID_PIN),  # PIN Too Late
    "20221": (E.DENIED, R.INVALID_PIN),  # PIN Confirmation Failed
    "42604": (E.DENIED, R.EXPIRED),  # Engage Access Denied - Expired
    "41340": (E.DENIED, R.EXPIRED),  # Expired PIV Card
    "23031": (E.DOOR_OPENED, ""),  # Door Opened
    "23051": (E.DOOR_CLOSED, ""),  # Door Re-secured
    "302": (E.OFFLINE, ""),  # Controller Offline
    "3088": (E.POWER_FAIL, ""),  # Power failed
}
# Gallagher event type groups (the `group.id` of an event): every type in them.
GALLAGHER_GROUPS: dict[str, tuple[str, str]] = {
    "18": (E.DENIED, ""),  # Access Denied
    "17": (E.DENIED, R.INVALID_PIN),  # Wrong PIN
    "19": (E.DURESS, ""),  # Duress ("DURESS, Entry OK", "Cardholder Duress", ...)
    "29": (E.FORCED_OPEN, ""),  # Forced Door ("Forced Door", "Interlock Breach", ...)
    "28": (E.HELD_OPEN, ""),  # Door Open Too Long
    "1": (E.TAMPER, ""),  # Tamper ("Unit Tampered", "Controller tampered (front)", ...)
    "3": (E.OFFLINE, ""),  # Unit Stopped Responding
    "32": (E.POWER_FAIL, ""),  # Power Failure
}
# Groups whose events concern a door (card events, door states): from an unknown source they
# are an error (a door missing at the site); any other event from an unknown source (a
# workstation logon, a controller restarting, an operator edit) is skipped and counted.
GALLAGHER_DOOR_GROUPS = frozenset({"17", "18", "19", "23", "26", "27", "28", "29", "30", "188"})

# UniFi Access webhook events (Access API reference, "Webhook" event list).
UNIFI_EVENTS: dict[str, tuple[str, str]] = {
    "access.door.unlock": (E.GRANTED, E.DENIED),  # object.result "Access Granted"/"Denied"
}
# Verkada access-control `notification_type` values named in Verkada's API reference (Get
# Events: "door_opened, door_granted, door_rejected, door_forced_open, door_held_open,
# door_tailgating, door_tamper, door_offline"); its other types arrive as `other` for mapping.
VERKADA_EVENTS: dict[str, tuple[str, str]] = {
    "door_granted": (E.GRANTED, ""),
    "door_rejected": (E.DENIED, ""),
    "door_forced_open": (E.FORCED_OPEN, ""),
    "door_held_open": (E.HELD_OPEN, ""),
    "door_opened": (E.DOOR_OPENED, ""),
    "door_tamper": (E.TAMPER, ""),
    "door_offline": (E.OFFLINE, ""),
}
# Kisi event webhooks: `success` false turns an unlock into a denial.
KISI_EVENTS = {"lock.unlock": (E.GRANTED, E.DENIED)}

# Vendors whose defaults are seeded as editable rows (a type name → neutral, and if failed).
SEEDED = {SourceFormat.KISI: KISI_EVENTS, SourceFormat.UNIFI: UNIFI_EVENTS}
VENDORS = frozenset(
    {SourceFormat.GALLAGHER, SourceFormat.KISI, SourceFormat.UNIFI, SourceFormat.VERKADA}
)


@dataclass(frozen=True)
class Mapped:
    """What one vendor event becomes."""

    event_type: str
    reason: str = ""


class Mapper:
    """A vendor's mapping for one site, loaded once per ingestion (two queries)."""

    def __init__(self, site: Site, vendor: str):
        self.vendor = vendor
        self.names: dict[str, tuple[str, str, str]] = {}
        if vendor not in VENDORS:
            return
        ensure_vendor_mappings(vendor)
        rows = VendorTypeMapping.objects.filter(vendor=vendor, is_active=True).filter(
            Q(site__isnull=True) | Q(site=site)
        )
        # Site rows after global rows, so a site's own choice wins.
        for m in sorted(rows, key=lambda m: m.site_id is not None):
            self.names[m.vendor_type] = (m.neutral_type, m.neutral_type_if_failed, m.reason)

    def resolve(self, row) -> Mapped:
        """The neutral type (and denial reason) of one incoming vendor event."""
        if row.vendor_type in self.names:
            success, failed, reason = self.names[row.vendor_type]
            event_type = (failed or success) if row.failed else success
            return Mapped(event_type, reason if event_type == E.DENIED else "")
        found = self._published(row)
        if found is None:
            return Mapped(E.OTHER)
        success, second = found
        if second in NEUTRAL:  # (type if success, type if failed)
            return Mapped(second if row.failed else success)
        return Mapped(success, second)

    def _published(self, row) -> tuple[str, str] | None:
        if self.vendor == SourceFormat.GALLAGHER:
            return GALLAGHER_TYPES.get(row.vendor_type_id) or GALLAGHER_GROUPS.get(
                row.vendor_group_id
            )
        table = {SourceFormat.VERKADA: VERKADA_EVENTS}.get(self.vendor, SEEDED.get(self.vendor))
        return (table or {}).get(row.vendor_type)

    def concerns_a_door(self, row) -> bool:
        """Whether an event from a source the site does not know must be refused (a door is
        missing) rather than skipped (the source is a workstation, a controller, an operator)."""
        if self.vendor == SourceFormat.GALLAGHER:
            if row.vendor_group_id:
                return row.vendor_group_id in GALLAGHER_DOOR_GROUPS
            return row.vendor_type_id in GALLAGHER_TYPES
        if self.vendor == SourceFormat.VERKADA:
            return row.vendor_type.startswith("door_")
        if self.vendor == SourceFormat.UNIFI:
            return row.vendor_type.startswith(("access.door.", "access.device.dps"))
        return True


def ensure_vendor_mappings(vendor: str, actor: AbstractBaseUser | None = None) -> None:
    """Seed the editable default rows of a vendor once (when it has no row at all yet)."""
    if vendor not in SEEDED or VendorTypeMapping.objects.filter(vendor=vendor).exists():
        return
    from facility_log.services.accounts import system_actor

    with audited_change(actor or system_actor(), f"default {vendor} type mappings"):
        for vendor_type, (success, failed) in SEEDED[vendor].items():
            # get_or_create: two first webhooks arriving together must not collide.
            VendorTypeMapping.objects.get_or_create(
                vendor=vendor,
                vendor_type=vendor_type,
                site=None,
                defaults={"neutral_type": success, "neutral_type_if_failed": failed},
            )


def _unmapped_query(sites: int, **site_ids):
    """The counts of `other` events per site, source and vendor type at `sites` sites."""
    ids = [site_ids[f"site{n}"] for n in range(sites)]
    return (
        AccessEvent.objects.filter(site__in=ids, event_type=EventType.OTHER)
        .exclude(vendor_type="")
        .values("site_id", "source", "vendor_type")
        # COUNT(*), not of the id, and no join to the site: read from the partial index of
        # `other` events alone (access_event_unmapped) without visiting the table.
        .annotate(events=Count("*"))
    )


# The event list asks on every request of a manager: compiled once per number of sites
# (services/precompiled.py), with sentinels within 32 bits in the places of the site ids.
_UNMAPPED_SITES = 16
_UNMAPPED = PreparedQuery(
    _unmapped_query,
    {
        f"site{n}": Slot(-(2**31) + 11_000 + n, AccessEvent._meta.get_field("site"))
        for n in range(_UNMAPPED_SITES)
    },
)


def _unmapped_counts(site_ids: list) -> list[dict]:
    if not 1 <= len(site_ids) <= _UNMAPPED_SITES:
        return list(
            _unmapped_query(len(site_ids), **{f"site{n}": v for n, v in enumerate(site_ids)})
        )
    values = {f"site{n}": site_id for n, site_id in enumerate(site_ids)}
    using = router.db_for_read(AccessEvent)
    return _UNMAPPED.rows(len(site_ids), using=using, **values)


def unmapped_vendor_types(sites) -> list[dict]:
    """Vendor types stored as `other` at these sites, per site, with how many events each and
    the mapping the site now has for it (events already stored keep their type: they are
    never edited). `sites` are Site instances (their codes are used as read) or ids."""
    if all(isinstance(site, Site) for site in sites):
        # The event list passes the sites it has read already: no second read of their codes.
        codes = {site.pk: site.code for site in sites}
    else:
        ids = [getattr(site, "pk", site) for site in sites]
        codes = dict(Site.objects.filter(pk__in=ids).values_list("pk", "code"))
    rows = sorted(
        _unmapped_counts(list(codes)),
        key=lambda r: (codes[r["site_id"]], r["source"], -r["events"], r["vendor_type"]),
    )
    if not rows:  # nothing unmapped (the usual case): no mapping to look up
        return rows
    for entry in rows:
        entry["site__code"] = codes[entry["site_id"]]
    mapped = {
        (m.site_id, m.vendor, m.vendor_type): m
        for m in VendorTypeMapping.objects.filter(site__in=sites, is_active=True)
    }
    for entry in rows:
        entry["mapping"] = mapped.get((entry["site_id"], entry["source"], entry["vendor_type"]))
    return rows


def map_vendor_type(
    site: Site,
    actor: AbstractBaseUser,
    *,
    vendor: str,
    vendor_type: str,
    neutral_type: str,
    reason: str,
    denial_reason: str = "",
) -> VendorTypeMapping:
    """Map one vendor type for one site's future events (its managers only). Events already
    stored are immutable and keep `other`; the history row says who mapped what and why."""
    require_role(actor, site, MANAGE_ROLES)
    if vendor not in VENDORS:
        raise ValidationError({"vendor": f"{vendor!r} is not a vendor format."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why this type means that."})
    if denial_reason and neutral_type != E.DENIED:
        raise ValidationError({"denial_reason": "A denial reason needs the type `denied`."})
    with audited_change(actor, f"{vendor} type {vendor_type!r} mapped: {reason.strip()}"):
        record = VendorTypeMapping.objects.filter(
            site=site, vendor=vendor, vendor_type=vendor_type
        ).first() or VendorTypeMapping(site=site, vendor=vendor, vendor_type=vendor_type)
        record.neutral_type, record.reason = neutral_type, denial_reason
        record.neutral_type_if_failed, record.is_active = "", True
        record.full_clean(validate_constraints=False)
        record.save()
    return record
