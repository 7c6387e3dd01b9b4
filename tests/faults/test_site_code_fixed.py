"""A site's code is part of every incident number issued there: nobody changes it, a
superuser included, whether through the model, the service, the admin or the API."""

import pytest
from django.core.exceptions import ValidationError

from facility_log.models import Site
from facility_log.models.sites import SITE_CODE_FIXED
from facility_log.services import sites as site_services


@pytest.mark.django_db
def test_the_model_refuses_a_changed_code(personas):
    site = Site.objects.get(pk=personas.site_a.pk)
    site.code = "OMEGA"
    with pytest.raises(ValidationError, match="cannot be changed"):
        site.full_clean()
    with pytest.raises(ValidationError, match="cannot be changed"):
        site.save()
    assert Site.objects.get(pk=site.pk).code == "ALPHA"


@pytest.mark.django_db
def test_the_service_refuses_a_superuser_too(personas):
    with pytest.raises(ValidationError) as refused:
        site_services.update_site(personas.site_a, personas.admin, reason="rename", code="OMEGA")
    assert refused.value.message_dict == {"code": [SITE_CODE_FIXED]}
    assert Site.objects.get(pk=personas.site_a.pk).code == "ALPHA"
    # The other fields still change, and sending the same code is harmless.
    site_services.update_site(
        personas.site_a, personas.admin, reason="name", code="ALPHA", name="Alpha Works"
    )
    assert Site.objects.get(pk=personas.site_a.pk).name == "Alpha Works"


@pytest.mark.django_db
def test_the_admin_shows_the_code_but_never_changes_it(personas, client_for):
    client = client_for("admin")
    url = f"/admin/facility_log/site/{personas.site_a.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="code"' not in page and "ALPHA" in page
    response = client.post(
        url,
        {
            "code": "OMEGA",
            "name": "Alpha Plant",
            "time_zone": "Europe/Berlin",
            "is_active": "on",
            "change_reason": "try a new code",
        },
    )
    assert response.status_code == 302
    assert Site.objects.get(pk=personas.site_a.pk).code == "ALPHA"
    # A new site still takes the code it is given.
    assert 'name="code"' in client.get("/admin/facility_log/site/add/").content.decode()


@pytest.mark.django_db
def test_the_api_names_the_code_and_why(personas, api_client_for):
    response = api_client_for("admin").patch(
        "/api/v1/sites/ALPHA/", {"code": "OMEGA", "reason": "rename"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"code": [SITE_CODE_FIXED]}
    assert Site.objects.get(pk=personas.site_a.pk).code == "ALPHA"
