"""seed_demo adds incidents at HQ in every state, with persons, a photo and supplements."""

from io import StringIO

import pytest
from django.core.management import call_command

from facility_log.models import Attachment, Incident, Supplement
from facility_log.models.incidents import Status


def _state():
    return (
        list(Incident.objects.values_list("number", "status").order_by("id")),
        Supplement.objects.count(),
        Attachment.objects.count(),
        Incident.history.count(),
    )


@pytest.mark.django_db
def test_seed_demo_adds_incidents_in_every_state_and_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    first = _state()
    call_command("seed_demo", stdout=StringIO())
    assert _state() == first
    hq = Incident.objects.filter(site__code="HQ")
    assert set(hq.values_list("status", flat=True)) == set(Status.values)
    assert hq.filter(persons__isnull=False).exists()
    photo = Attachment.objects.get()
    assert photo.content_type == "image/png"
    assert photo.incident.site.code == "HQ"
    assert Supplement.objects.filter(incident__site__code="HQ").exists()
    assert Incident.history.filter(history_user_name="supervisor").exists()
