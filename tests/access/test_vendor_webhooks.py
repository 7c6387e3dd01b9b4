"""UniFi Access and Verkada webhooks, signed as each vendor signs: stored once; a stale, wrong
or missing signature gets 401 with a JSON reason and stores nothing; a replay is a duplicate."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from facility_log.models import AccessEvent, Alarm, ImportBatch
from facility_log.services import access
from facility_log.services.accounts import system_actor
from facility_log.services.verify import verify_audit
from tests.access.helpers import SAMPLES, door

UNIFI_SECRET = "unifi-endpoint-secret"
VERKADA_SECRET = "verkada-shared-secret"
UNIFI_DOOR = "d2b87427-7efa-43c1-aa52-b00d40d99ecf"  # the sample's data.location.id
VERKADA_DOOR = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"  # the sample's data.door_id


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def unifi_signature(raw: bytes, t: int, secret: str = UNIFI_SECRET) -> str:
    """As UniFi Access signs: HMAC-SHA256 of "<t>.<raw body>", sent as t=…,v1=…"""
    return f"t={t},v1={_hex(secret, f'{t}.'.encode() + raw)}"


def verkada_signature(raw: bytes, t: int, secret: str = VERKADA_SECRET) -> str:
    """As Verkada signs: HMAC-SHA256 of "<raw body>|<t>", sent as <t>|<signature>."""
    return f"{t}|{_hex(secret, raw + b'|' + str(t).encode())}"


def _unifi_body(**object_fields) -> bytes:
    body = json.loads((SAMPLES / "unifi-webhook-door-unlock.json").read_text())
    body["data"]["object"].update(object_fields)
    return json.dumps(body).encode()


def _verkada_body(created: int, **data) -> bytes:
    body = json.loads((SAMPLES / "verkada-webhook-access-event.json").read_text())
    body["data"].update(created=created, **data)
    return json.dumps(body).encode()


def _post(vendor: str, site, raw: bytes, header: str | None, client=None):
    name = {"unifi": "HTTP_SIGNATURE", "verkada": "HTTP_VERKADA_SIGNATURE"}[vendor]
    headers = {name: header} if header is not None else {}
    url = reverse(f"api-{vendor}-webhook", kwargs={"site_code": site.code})
    return (client or Client()).post(url, raw, content_type="application/json", **headers)


@pytest.fixture
def site(personas):
    site, actor = personas.site_a, personas.manager_ab
    for vendor, code, external in (
        ("unifi", "D-3855", UNIFI_DOOR),
        ("verkada", "D-DOCK2", VERKADA_DOOR),
    ):
        linked = door(site, personas.zone_a, code)
        access.add_door_external_id(
            linked, actor, source=vendor, external_id=external, reason=f"{vendor} door id"
        )
    access.set_webhook_secret(site, actor, secret=UNIFI_SECRET, source="unifi", reason="UniFi")
    access.set_webhook_secret(
        site, actor, secret=VERKADA_SECRET, source="verkada", reason="Verkada"
    )
    return site


def _nothing_stored():
    assert AccessEvent.objects.count() == 0
    assert ImportBatch.objects.count() == 0


@pytest.mark.django_db
def test_a_unifi_unlock_signed_as_unifi_signs_is_stored_once(site):
    raw, t = _unifi_body(), int(time.time())
    response = _post("unifi", site, raw, unifi_signature(raw, t))
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1, "duplicates": 0, "skipped": {}}
    event = AccessEvent.objects.get()
    assert (event.source, event.event_type, event.vendor_type) == (
        "unifi",
        "granted",
        "access.door.unlock",
    )
    assert event.external_id == "4a98adf6-dbb8-4312-9b8b-593f6eba8c8e"
    assert event.door.code == "D-3855"
    assert event.cardholder == "Ada Example"
    assert event.occurred_at == datetime.fromtimestamp(t, tz=UTC)
    assert event.credential_hash and "0C2D4F1A" not in event.credential_hash
    # UniFi retries with a fresh signature: the event is recognised by its own id.
    replay = _post("unifi", site, raw, unifi_signature(raw, t + 30))
    assert (replay.status_code, replay.json()["duplicates"]) == (200, 1)
    assert AccessEvent.objects.count() == 1
    assert verify_audit().intact


@pytest.mark.django_db
def test_a_unifi_denied_unlock_is_stored_as_denied(site):
    raw = _unifi_body(result="Access Denied")
    assert _post("unifi", site, raw, unifi_signature(raw, int(time.time()))).status_code == 201
    assert AccessEvent.objects.get().event_type == "denied"


@pytest.mark.django_db
def test_a_verkada_access_event_signed_as_verkada_signs_is_stored_with_its_alarm(site):
    now = int(time.time())
    raw = _verkada_body(created=now - 2)
    response = _post("verkada", site, raw, verkada_signature(raw, now))
    assert response.status_code == 201, response.content
    event = AccessEvent.objects.get()
    assert (event.source, event.event_type, event.direction) == ("verkada", "forced_open", "in")
    assert event.occurred_at == datetime.fromtimestamp(now - 2, tz=UTC)
    assert event.door.code == "D-DOCK2"
    assert Alarm.objects.get().event_id == event.pk
    replay = _post("verkada", site, raw, verkada_signature(raw, now + 1))
    assert (replay.status_code, replay.json()["duplicates"]) == (200, 1)
    assert (AccessEvent.objects.count(), Alarm.objects.count()) == (1, 1)
    assert verify_audit().intact


@pytest.mark.django_db
@pytest.mark.parametrize("vendor", ["unifi", "verkada"])
@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("stale", "stale_timestamp"),
        ("future", "stale_timestamp"),
        ("wrong-secret", "bad_signature"),
        ("other-body", "bad_signature"),
        ("missing", "missing_signature"),
        ("garbage", "malformed_signature"),
    ],
)
def test_a_stale_wrong_or_missing_signature_gets_401_with_a_reason_and_stores_nothing(
    site, vendor, case, reason
):
    now = int(time.time())
    raw = _unifi_body() if vendor == "unifi" else _verkada_body(created=now)
    sign = unifi_signature if vendor == "unifi" else verkada_signature
    header = {
        "stale": lambda: sign(raw, now - 301),
        "future": lambda: sign(raw, now + 400),
        "wrong-secret": lambda: sign(raw, now, "not-the-secret"),
        "other-body": lambda: sign(raw + b" ", now),
        "missing": lambda: None,
        "garbage": lambda: "yesterday",
    }[case]()
    response = _post(vendor, site, raw, header)
    assert response.status_code == 401
    assert response.json()["reason"] == reason
    assert response.json()["detail"]
    _nothing_stored()
    assert verify_audit().intact


@pytest.mark.django_db
def test_a_site_without_a_secret_and_the_outsider_get_nothing(site, personas, api_client_for):
    raw, now = _unifi_body(), int(time.time())
    other = _post("unifi", personas.site_c, raw, unifi_signature(raw, now))
    assert (other.status_code, other.json()["reason"]) == (401, "not_configured")
    # The outsider's token is no signature; a body signed with site C's secret is not A's.
    access.set_webhook_secret(
        personas.site_c, system_actor(), secret="c-secret", source="unifi", reason="C"
    )
    outsider = _post("unifi", site, raw, None, client=api_client_for("outsider_c"))
    assert outsider.status_code == 401
    signed_for_c = _post("unifi", site, raw, unifi_signature(raw, now, "c-secret"))
    assert (signed_for_c.status_code, signed_for_c.json()["reason"]) == (401, "bad_signature")
    _nothing_stored()


@pytest.mark.django_db
def test_a_signed_body_for_an_unknown_door_is_refused_naming_the_field(site):
    body = json.loads(_unifi_body())
    body["data"]["location"]["id"] = "no-such-door"
    raw, now = json.dumps(body).encode(), int(time.time())
    response = _post("unifi", site, raw, unifi_signature(raw, now))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "data.location.id"
    _nothing_stored()


@pytest.mark.django_db
@pytest.mark.parametrize("vendor", ["unifi", "verkada"])
def test_a_nul_is_refused_only_once_the_signature_holds(site, vendor):
    """The signature is checked first: an unsigned caller learns nothing from the body (401,
    as the schema says for any body); a signed body with a NUL is a 400 naming the cause."""
    now = int(time.time())
    if vendor == "unifi":
        body = json.loads(_unifi_body())
        body["data"]["actor"]["name"] = "Ada\x00"
        raw = json.dumps(body).encode()
        signed = unifi_signature(raw, now)
    else:
        body = json.loads(_verkada_body(now))
        body["data"]["user_info"] = {"name": "Ada\x00"}
        raw = json.dumps(body).encode()
        signed = verkada_signature(raw, now)
    assert b"\\u0000" in raw
    unsigned = _post(vendor, site, raw, "t=1,v1=00")
    assert unsigned.status_code == 401 and unsigned.json()["reason"]
    refused = _post(vendor, site, raw, signed)
    assert refused.status_code == 400
    assert "NUL" in refused.json()["detail"]
    _nothing_stored()


@pytest.mark.django_db
def test_a_kisi_body_signed_long_ago_is_refused_as_a_replay(personas):
    door(personas.site_a, personas.zone_a, "D-MAIN")
    access.set_webhook_secret(
        personas.site_a, personas.manager_ab, secret="k", reason="Kisi set up"
    )
    body = json.loads((SAMPLES / "kisi-webhooks.json").read_text())[0]
    body["created_at"] = "2020-01-01T00:00:00Z"
    raw = json.dumps(body).encode()
    url = reverse("api-kisi-webhook", kwargs={"site_code": personas.site_a.code})
    response = Client().post(
        url, raw, content_type="application/json", HTTP_X_SIGNATURE=_hex("k", raw)
    )
    assert (response.status_code, response.json()["reason"]) == (401, "stale_event")
    _nothing_stored()


@pytest.mark.django_db
def test_the_schema_declares_the_vendor_webhooks_with_every_status(api_client_for):
    schema = api_client_for("manager_ab").get("/api/v1/schema/?format=json").json()
    for vendor in ("unifi", "verkada"):
        operation = schema["paths"][f"/api/v1/webhooks/{vendor}/{{site_code}}/"]["post"]
        assert {"200", "201", "400", "401"} <= set(operation["responses"])
        # No token: the vendor's signature header is the authentication.
        assert operation.get("security") in (None, [], [{}])
        assert operation["parameters"][0]["in"] == "header"
        assert operation["parameters"][0]["required"] is True
