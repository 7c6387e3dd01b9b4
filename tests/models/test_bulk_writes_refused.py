"""Audited tables refuse the writes that would skip their history."""

import pytest

from facility_log.models import Membership, Site, Zone
from facility_log.models.base import HistoryBypassError


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Site, Zone, Membership])
def test_queryset_update_is_refused_and_changes_nothing(model, personas):
    before = list(model.objects.values_list("pk", "is_active"))
    with pytest.raises(HistoryBypassError, match="update"):
        model.objects.update(is_active=False)
    with pytest.raises(HistoryBypassError):
        model.objects.filter(pk=model.objects.first().pk).update(is_active=False)
    assert list(model.objects.values_list("pk", "is_active")) == before


@pytest.mark.django_db
def test_site_objects_update_is_refused(personas):
    with pytest.raises(HistoryBypassError, match="Site.objects.update"):
        Site.objects.update(name="Quietly renamed")
    assert not Site.objects.filter(name="Quietly renamed").exists()


@pytest.mark.django_db
def test_bulk_update_bulk_create_and_queryset_delete_are_refused(personas):
    sites = list(Site.objects.all())
    for site in sites:
        site.name = "Bulk"
    with pytest.raises(HistoryBypassError):
        Site.objects.bulk_update(sites, ["name"])
    with pytest.raises(HistoryBypassError):
        Site.objects.bulk_create([Site(code="NEW1", name="New")])
    with pytest.raises(HistoryBypassError):
        Zone.objects.all().delete()
    assert Zone.objects.count() == 3
    assert not Site.objects.filter(name="Bulk").exists()
    assert not Site.objects.filter(code="NEW1").exists()
