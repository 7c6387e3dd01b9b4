"""The default incident categories every installation starts with."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_noop

from facility_log.models import Category
from facility_log.services.audit import audited_change

# Marked for the catalogue: Category shows these names translated (models/incidents.py).
DEFAULT_CATEGORIES = [
    gettext_noop("Trespass"),
    gettext_noop("Theft"),
    gettext_noop("Vandalism"),
    gettext_noop("Threat received"),
    gettext_noop("Suspicious activity"),
    gettext_noop("Access violation"),
    gettext_noop("Alarm"),
    gettext_noop("Fire"),
    gettext_noop("Injury / medical"),
    gettext_noop("Safety hazard"),
    gettext_noop("Property damage"),
    gettext_noop("Lost / found"),
    gettext_noop("Other"),
]


def ensure_default_categories(actor: AbstractBaseUser | None) -> None:
    """Create the seeded categories that do not exist yet (idempotent)."""
    existing = set(Category.objects.values_list("name", flat=True))
    missing = [name for name in DEFAULT_CATEGORIES if name not in existing]
    if not missing:
        return
    with audited_change(actor, "default incident categories"):
        for name in missing:
            Category.objects.create(name=name, sort_order=DEFAULT_CATEGORIES.index(name) * 10)
