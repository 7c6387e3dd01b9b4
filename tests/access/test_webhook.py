"""The Kisi webhook: a signed body is stored once; a bad signature is refused, storing nothing."""

import hashlib
import hmac
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from facility_log.models import AccessEvent, ImportBatch, Role
from facility_log.services import access, accounts, sites
from tests.access.helpers import SAMPLES, sample_doors

SECRET = "kisi-shared-secret"


def _bodies() -> list[dict]:
    """The sample bodies as Kisi would send them now (a signed body must be recent)."""
    now = timezone.now().isoformat().replace("+00:00", "Z")
    return [
        dict(b, created_at=now) for b in json.loads((SAMPLES / "kisi-webhooks.json").read_text())
    ]


def _sign(raw: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@pytest.fixture
def signed_site(personas):
    sample_doors(personas.site_a, personas.zone_a)
    access.set_webhook_secret(
        personas.site_a, personas.manager_ab, secret=SECRET, reason="Kisi webhook set up"
    )
    return personas.site_a


def _post(site, raw: bytes, signature: str | None):
    headers = {"HTTP_X_SIGNATURE": signature} if signature is not None else {}
    url = reverse("api-kisi-webhook", kwargs={"site_code": site.code})
    return Client().post(url, raw, content_type="application/json", **headers)


@pytest.mark.django_db
def test_signed_webhook_body_is_stored_once(signed_site):
    body = _bodies()[2]  # a denied unlock
    raw = json.dumps(body).encode()
    first = _post(signed_site, raw, _sign(raw))
    assert first.status_code == 201, first.content
    event = AccessEvent.objects.get(site=signed_site, external_id=body["uuid"])
    assert (event.source, event.event_type, event.reason) == ("kisi", "denied", body["error_code"])
    assert ImportBatch.objects.get().channel == "webhook"
    again = _post(signed_site, raw, "sha256=" + _sign(raw))
    assert again.status_code == 200
    assert again.json() == {"created": 0, "duplicates": 1}
    assert AccessEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [None, "", "deadbeef", _sign(b"another body"), _sign(b"{}", "wrong-secret")],
    ids=["missing", "empty", "garbage", "other-body", "wrong-secret"],
)
def test_webhook_with_wrong_signature_gets_401_and_stores_nothing(signed_site, signature):
    raw = json.dumps(_bodies()[0]).encode()
    if signature == _sign(b"{}", "wrong-secret"):
        signature = _sign(raw, "wrong-secret")
    response = _post(signed_site, raw, signature)
    assert response.status_code == 401
    assert AccessEvent.objects.count() == 0
    assert ImportBatch.objects.count() == 0


@pytest.mark.django_db
def test_signature_wins_over_a_token_when_a_secret_is_set(signed_site, api_client_for):
    raw = json.dumps(_bodies()[0]).encode()
    url = reverse("api-kisi-webhook", kwargs={"site_code": signed_site.code})
    response = api_client_for("manager_ab").post(url, raw, content_type="application/json")
    assert response.status_code == 401
    assert AccessEvent.objects.count() == 0


@pytest.mark.django_db
def test_unsigned_site_accepts_an_integration_token_only(personas, api_client_for):
    sample_doors(personas.site_a, personas.zone_a)
    system = accounts.system_actor()
    bot = accounts.create_user(system, username="kisi-bot", password=None, reason="integration")
    sites.grant_membership(
        personas.site_a, system, user=bot, role=Role.INTEGRATION, reason="Kisi pushes events"
    )
    _token, key = accounts.issue_api_token(bot, system, reason="Kisi")
    url = reverse("api-kisi-webhook", kwargs={"site_code": personas.site_a.code})
    raw = json.dumps(_bodies()[0]).encode()
    anonymous = Client().post(url, raw, content_type="application/json")
    assert anonymous.status_code == 401
    guard = api_client_for("guard_a").post(url, raw, content_type="application/json")
    assert guard.status_code == 403
    outsider = api_client_for("outsider_c").post(url, raw, content_type="application/json")
    assert outsider.status_code == 404
    assert AccessEvent.objects.count() == 0
    ok = Client().post(url, raw, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")
    assert ok.status_code == 201
    assert AccessEvent.objects.count() == 1


@pytest.mark.django_db
def test_webhook_body_with_unknown_door_is_refused_naming_the_field(signed_site):
    body = dict(_bodies()[0], object_id="D-NOWHERE")
    raw = json.dumps(body).encode()
    response = _post(signed_site, raw, _sign(raw))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "object_id"
    assert AccessEvent.objects.count() == 0


@pytest.mark.django_db
def test_unmapped_kisi_type_is_kept_as_other_and_listed(signed_site):
    body = dict(_bodies()[0], type="lock.battery_low", uuid="battery-1")
    raw = json.dumps(body).encode()
    assert _post(signed_site, raw, _sign(raw)).status_code == 201
    event = AccessEvent.objects.get(external_id="battery-1")
    assert (event.event_type, event.vendor_type) == ("other", "lock.battery_low")
    listed = access.unmapped_vendor_types([signed_site])
    assert [(e["source"], e["vendor_type"], e["events"]) for e in listed] == [
        ("kisi", "lock.battery_low", 1)
    ]
