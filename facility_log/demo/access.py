"""Demo doors at HQ: the five doors the sample files in `samples/access-events/` use."""

from facility_log.models import Door, Site, SourceFormat, Zone
from facility_log.services import access

# code, name, HQ zone
HQ_DOORS = [
    ("D-MAIN", "Main Entrance", "Main entrance"),
    ("D-DOCK2", "Loading Dock 2", "Loading dock"),
    ("D-SRV", "Server Room", "Server room"),
    ("D-ROOF", "Roof Hatch", "Roof"),
    ("D-GATE-B", "Gate B", "Gate B"),
]


def seed_access(actor, reason: str) -> None:
    """Create HQ's doors (and the default vendor type mappings) if they are missing."""
    site = Site.objects.get(code="HQ")
    existing = set(Door.objects.filter(site=site).values_list("code", flat=True))
    for code, name, zone_name in HQ_DOORS:
        if code not in existing:
            zone = Zone.objects.get(site=site, name=zone_name)
            access.create_door(site, actor, zone=zone, code=code, name=name, reason=reason)
    for vendor in (SourceFormat.GALLAGHER, SourceFormat.KISI):
        access.ensure_vendor_mappings(vendor, actor)
