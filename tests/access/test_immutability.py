"""An access event is written once: no model, admin or page path changes it, and the
credential number is never stored."""

import hashlib
import hmac

import pytest

from facility_log.models import AccessEvent
from facility_log.models.base import HistoryBypassError
from facility_log.services.credentials import pseudonymise
from tests.access.helpers import door, ingest, row


@pytest.fixture
def event(personas):
    door(personas.site_a, personas.zone_a)
    ingest(personas.site_a, [row(credential="1234567890", cardholder="Ana Ruiz")])
    return AccessEvent.objects.get()


@pytest.mark.django_db
def test_event_rows_refuse_save_update_and_delete(event):
    event.event_type = "denied"
    with pytest.raises(HistoryBypassError):
        event.save()
    with pytest.raises(HistoryBypassError):
        AccessEvent.objects.filter(pk=event.pk).update(event_type="denied")
    with pytest.raises(HistoryBypassError):
        event.delete()
    with pytest.raises(HistoryBypassError):
        AccessEvent.objects.all().delete()
    assert AccessEvent.objects.get().event_type == "granted"


@pytest.mark.django_db
def test_admin_shows_events_read_only(event, client_for):
    client = client_for("admin")
    base = "/admin/facility_log/accessevent/"
    page = client.get(f"{base}{event.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="_save"' not in body
    assert "1234567890" not in body and event.credential_hash not in body
    assert client.post(f"{base}{event.pk}/change/", {"event_type": "denied"}).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccessEvent.objects.get().event_type == "granted"


@pytest.mark.django_db
def test_admin_alarm_page_offers_no_edit(event, client_for, personas):
    from tests.access.helpers import forced_open_at

    alarm = forced_open_at(personas.site_a, personas.zone_a, "f-2").alarm
    response = client_for("admin").post(
        f"/admin/facility_log/alarm/{alarm.pk}/change/", {"state": "resolved"}
    )
    assert response.status_code == 403
    alarm.refresh_from_db()
    assert alarm.state == "new"


@pytest.mark.django_db
def test_credential_is_stored_as_keyed_hash_and_two_last_characters_only(event, settings):
    values = [str(v) for v in AccessEvent.objects.values().get().values()]
    assert not any("1234567890" in v or "7890" in v for v in values)
    assert event.credential_hint == "90"
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "CREDENTIAL_KEY": "k1"}
    expected = hmac.new(b"k1", b"1234567890", hashlib.sha256).hexdigest()
    assert pseudonymise("1234567890") == (expected, "90")
    assert pseudonymise("") == ("", "")


@pytest.mark.parametrize(
    ("credential", "hint"),
    [("1234", ""), ("12345", ""), ("1234567", ""), ("12345678", "78"), (" 87654321 ", "21")],
)
def test_short_credentials_get_no_hint_and_long_ones_two_characters(credential, hint, settings):
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "CREDENTIAL_KEY": "k1"}
    digest, shown = pseudonymise(credential)
    assert shown == hint
    assert digest == hmac.new(b"k1", credential.strip().encode(), hashlib.sha256).hexdigest()


@pytest.mark.django_db
def test_same_card_gives_the_same_hash_so_events_can_be_matched(personas):
    door(personas.site_a, personas.zone_a)
    ingest(
        personas.site_a,
        [
            row(line=2, credential="555", external_id="a"),
            row(line=3, credential="555", external_id="b"),
        ],
    )
    assert AccessEvent.objects.values("credential_hash").distinct().count() == 1
