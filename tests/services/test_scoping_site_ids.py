"""`site_id_list`: the same sites as `sites_for`, as a literal list for the long lists."""

import pytest
from django.contrib.auth.models import AnonymousUser

from facility_log.models import Zone
from facility_log.scoping import (
    MANAGE_ROLES,
    VIEW_ROLES,
    scoped,
    scoped_to_ids,
    site_id_list,
    sites_for,
)


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [VIEW_ROLES, MANAGE_ROLES])
def test_site_id_list_is_sites_for_as_a_list(personas, roles):
    for name, user in personas.all_people().items():
        expected = sorted(sites_for(user, roles).values_list("pk", flat=True))
        assert site_id_list(user, roles) == expected, name
        ids = site_id_list(user, roles)
        assert set(scoped_to_ids(Zone.objects.all(), ids)) == set(
            scoped(Zone.objects.all(), user, roles)
        ), name


@pytest.mark.django_db
def test_nobody_and_a_deactivated_user_get_no_site(personas):
    assert site_id_list(AnonymousUser()) == []
    personas.outsider_c.is_active = False
    assert site_id_list(personas.outsider_c) == []
