"""The scoping helper: the one gate between users and sites' data."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from facility_log.models import Membership, Site, Zone
from facility_log.scoping import (
    MANAGE_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    roles_at,
    scoped,
    sites_for,
)
from facility_log.services import accounts, sites


@pytest.mark.django_db
def test_each_persona_sees_exactly_their_sites(personas):
    expected = {
        "guard_a": {"ALPHA"},
        "supervisor_a": {"ALPHA"},
        "manager_ab": {"ALPHA", "BRAVO"},
        "auditor_a": {"ALPHA"},
        "outsider_c": {"CHARLIE"},
        "admin": {"ALPHA", "BRAVO", "CHARLIE"},
    }
    for name, user in personas.all_people().items():
        assert set(sites_for(user).values_list("code", flat=True)) == expected[name], name


@pytest.mark.django_db
def test_scoped_follows_the_path_to_the_site(personas):
    zones = scoped(Zone.objects.all(), personas.outsider_c)
    assert list(zones) == [personas.zone_c]
    memberships = scoped(Membership.objects.all(), personas.manager_ab, MANAGE_ROLES)
    assert {m.site.code for m in memberships} == {"ALPHA", "BRAVO"}


@pytest.mark.django_db
def test_no_role_is_404_and_a_lesser_role_is_403(personas):
    with pytest.raises(Http404):
        get_scoped_or_404(Zone.objects.all(), personas.outsider_c, pk=personas.zone_a.pk)
    with pytest.raises(PermissionDenied):
        get_scoped_or_404(Zone.objects.all(), personas.guard_a, MANAGE_ROLES, pk=personas.zone_a.pk)
    zone = get_scoped_or_404(
        Zone.objects.all(), personas.guard_a, VIEW_ROLES, pk=personas.zone_a.pk
    )
    assert zone == personas.zone_a


@pytest.mark.django_db
def test_a_deactivated_user_reaches_nothing(personas):
    accounts.deactivate_user(personas.manager_ab, personas.admin, reason="left")
    assert not sites_for(personas.manager_ab).exists()
    assert roles_at(personas.manager_ab, personas.site_a) == set()


@pytest.mark.django_db
def test_an_ended_membership_reaches_nothing(personas):
    membership = Membership.objects.get(user=personas.guard_a)
    sites.end_membership(membership, personas.manager_ab, reason="moved to another employer")
    assert not sites_for(personas.guard_a).exists()


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_sites(personas, django_assert_num_queries):
    for n in range(5):
        site = sites.create_site(personas.admin, code=f"EXTRA{n}", name=f"Extra {n}", reason="r")
        sites.grant_membership(
            site, personas.admin, user=personas.guard_a, role="guard", reason="r"
        )
    with django_assert_num_queries(1):
        assert len(list(sites_for(personas.guard_a))) == 6
    assert Site.objects.count() == 8


def _answer(read):
    """What a site read gives: the site's code, or the refusal with its message."""
    try:
        return read().code
    except (Http404, PermissionDenied) as refusal:
        return type(refusal).__name__, str(refusal)


ROLE_SETS = [VIEW_ROLES, MANAGE_ROLES, frozenset({"auditor"}), frozenset({"integration"})]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["ALPHA", "BRAVO", "CHARLIE", "NOPE", "", "alpha", "ALPHA%"])
def test_a_site_by_its_code_answers_as_the_scoped_read(personas, code):
    """get_site_or_404 (compiled, roles from the memberships) gives each persona what
    get_scoped_or_404 gave for every site, unknown code and role set: the outsider nothing."""
    from facility_log.scoping import get_site_or_404

    for name, user in personas.all_people().items():
        for roles in ROLE_SETS:
            before = _answer(
                lambda user=user, roles=roles: get_scoped_or_404(
                    Site.objects.all(), user, roles, site_field="", code=code
                )
            )
            after = _answer(lambda user=user, roles=roles: get_site_or_404(user, code, roles))
            assert after == before, (name, sorted(roles))
    outsider = [
        _answer(lambda r=r: get_site_or_404(personas.outsider_c, "ALPHA", r)) for r in ROLE_SETS
    ]
    assert all(answer[0] == "Http404" for answer in outsider)


@pytest.mark.django_db
def test_a_site_by_its_code_follows_a_deactivation_and_an_ended_membership(personas):
    from facility_log.scoping import get_site_or_404

    assert get_site_or_404(personas.guard_a, "ALPHA") == personas.site_a
    membership = Membership.objects.get(user=personas.guard_a)
    sites.end_membership(membership, personas.manager_ab, reason="moved to another employer")
    with pytest.raises(Http404):
        get_site_or_404(personas.guard_a, "ALPHA")
    accounts.deactivate_user(personas.manager_ab, personas.admin, reason="left")
    with pytest.raises(Http404):
        get_site_or_404(personas.manager_ab, "BRAVO")
