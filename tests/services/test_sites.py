"""Site, zone and membership services: rules, and the history each change leaves."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from facility_log.models import Membership, Role, Site, Zone
from facility_log.scoping import has_role
from facility_log.services import sites
from facility_log.services.audit import MissingChangeReason, request_id_scope


@pytest.mark.django_db
def test_updating_a_site_leaves_history_with_user_name_time_and_reason(personas):
    site = personas.site_a
    with request_id_scope("req-test-123"):
        sites.update_site(
            site, personas.manager_ab, name="Alpha Works", reason="renamed by the owner"
        )
    latest = site.history.latest()
    assert latest.name == "Alpha Works"
    assert latest.history_type == "~"
    assert latest.history_user == personas.manager_ab
    assert latest.history_user_name == "manager_ab"
    assert latest.history_change_reason == "renamed by the owner"
    assert latest.history_request_id == "req-test-123"
    assert latest.history_date is not None
    assert latest.prev_record.name == "Alpha Plant"


@pytest.mark.django_db
def test_the_user_name_stays_in_history_after_the_account_is_renamed(personas):
    sites.update_site(personas.site_a, personas.manager_ab, address="Dock 4", reason="moved")
    personas.manager_ab.username = "mia_new"
    personas.manager_ab.save()
    assert personas.site_a.history.latest().history_user_name == "manager_ab"


@pytest.mark.django_db
def test_a_change_without_a_reason_is_refused_and_writes_nothing(personas):
    with pytest.raises(MissingChangeReason):
        sites.update_site(personas.site_a, personas.manager_ab, name="No reason", reason="  ")
    personas.site_a.refresh_from_db()
    assert personas.site_a.name == "Alpha Plant"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "auditor_a", "outsider_c"])
def test_only_managers_change_a_site(personas, who):
    before = personas.site_a.history.count()
    with pytest.raises(PermissionDenied):
        sites.update_site(personas.site_a, personas.all_people()[who], name="Mine now", reason="x")
    assert personas.site_a.history.count() == before


@pytest.mark.django_db
def test_a_bad_time_zone_names_the_field_and_changes_nothing(personas):
    with pytest.raises(ValidationError) as error:
        sites.update_site(
            personas.site_a, personas.manager_ab, time_zone="Mars/Olympus", reason="typo"
        )
    assert "time_zone" in error.value.message_dict
    assert Site.objects.get(pk=personas.site_a.pk).time_zone == "Europe/Berlin"


@pytest.mark.django_db
def test_the_site_code_cannot_be_changed(personas):
    with pytest.raises(ValidationError) as error:
        sites.update_site(personas.site_a, personas.manager_ab, code="NEW", reason="x")
    assert "code" in error.value.message_dict


@pytest.mark.django_db
def test_only_a_superuser_creates_sites(personas):
    with pytest.raises(PermissionDenied):
        sites.create_site(personas.manager_ab, code="DELTA", name="Delta", reason="expansion")
    site = sites.create_site(personas.admin, code="DELTA", name="Delta", reason="expansion")
    assert site.history.get().history_user_name == "admin"


@pytest.mark.django_db
def test_bad_site_code_is_refused_with_the_field_named(personas):
    with pytest.raises(ValidationError) as error:
        sites.create_site(personas.admin, code="bad code", name="X", reason="x")
    assert "code" in error.value.message_dict
    assert not Site.objects.filter(name="X").exists()


@pytest.mark.django_db
def test_zone_names_are_unique_per_site_not_across_sites(personas):
    with pytest.raises(ValidationError):
        sites.create_zone(
            personas.site_a, personas.manager_ab, name=personas.zone_a.name, reason="dup"
        )
    zone = sites.create_zone(
        personas.site_b, personas.manager_ab, name=personas.zone_a.name, reason="same name ok"
    )
    assert zone.site == personas.site_b


@pytest.mark.django_db
def test_ending_a_membership_keeps_the_row_and_removes_access(personas):
    membership = Membership.objects.get(user=personas.guard_a, site=personas.site_a)
    sites.end_membership(membership, personas.manager_ab, reason="left the company")
    membership.refresh_from_db()
    assert membership.is_active is False
    assert not has_role(personas.guard_a, personas.site_a, {Role.GUARD})
    assert membership.history.latest().history_change_reason == "left the company"


@pytest.mark.django_db
def test_granting_an_ended_membership_reactivates_it(personas):
    membership = Membership.objects.get(user=personas.guard_a, site=personas.site_a)
    sites.end_membership(membership, personas.manager_ab, reason="leave")
    again = sites.grant_membership(
        personas.site_a,
        personas.manager_ab,
        user=personas.guard_a,
        role=Role.GUARD,
        reason="back from leave",
    )
    assert again.pk == membership.pk and again.is_active
    assert Membership.objects.filter(user=personas.guard_a, site=personas.site_a).count() == 1


@pytest.mark.django_db
def test_manager_cannot_grant_roles_at_a_site_they_do_not_manage(personas):
    with pytest.raises(PermissionDenied):
        sites.grant_membership(
            personas.site_c,
            personas.manager_ab,
            user=personas.guard_a,
            role=Role.GUARD,
            reason="x",
        )
    assert not Membership.objects.filter(user=personas.guard_a, site=personas.site_c).exists()


@pytest.mark.django_db
def test_zone_change_is_attributed(personas):
    sites.update_zone(personas.zone_a, personas.manager_ab, description="Glass doors", reason="r")
    row = Zone.history.filter(id=personas.zone_a.pk).latest()
    assert (row.history_user_name, row.history_change_reason) == ("manager_ab", "r")
