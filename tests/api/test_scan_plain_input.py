"""A scan sent as tablets send it is validated with the serializer's own fields built once
(api/rounds/scans.py `plain_scan`): for every such body the result is what the serializer's
`validated_data` is, and anything else (an error, an unknown field, a route, a list) is left
to the serializer, so its errors read as before."""

import uuid

import pytest

from facility_log.api.rounds.scans import ScanSerializer, plain_scan

UID = "0b0c8f5e-3c9d-4d6e-9a51-2f1e6c7d8a90"
PLAIN = [
    {
        "run": 7,
        "tag_code": "ab-12",
        "client_uuid": UID,
        "method": "qr",
        "device_time": "2026-11-30T03:04:05.123456+05:30",
    },
    {
        "run": "7",
        "tag_code": "  AB-12 ",
        "client_uuid": UID.upper(),
        "method": "nfc",
        "device_time": "2026-11-30T03:04:05Z",
        "device_sent_at": None,
        "note": "",
    },
    {
        "run": 9,
        "tag_code": "X",
        "client_uuid": UID.replace("-", ""),
        "method": "manual",
        "device_time": "2026-11-30 03:04",
        "device_sent_at": "2026-11-30T03:05:00-03:30",
        "note": "  Tür offen\r\n ✓ ",
    },
]
NOT_PLAIN = [
    {**PLAIN[0], "run": True},
    {**PLAIN[0], "run": 0},
    {**PLAIN[0], "run": "seven"},
    {**PLAIN[0], "tag_code": ""},
    {**PLAIN[0], "tag_code": "x" * 41},
    {**PLAIN[0], "client_uuid": "not-a-uuid"},
    {**PLAIN[0], "method": "telepathy"},
    {**PLAIN[0], "device_time": "yesterday"},
    {**PLAIN[0], "device_time": "2026-11-30T03:04:05+23:59"},
    {**PLAIN[0], "device_time": "0001-01-01T00:00:00Z"},
    {**PLAIN[0], "note": None},
    {**PLAIN[0], "id": 5},
    {**PLAIN[0], "received_at": "2026-11-30T03:04:05Z"},
    {key: value for key, value in PLAIN[0].items() if key != "run"},
    {key: value for key, value in PLAIN[0].items() if key != "device_time"},
    {**{key: value for key, value in PLAIN[0].items() if key != "run"}, "route": 3},
    [PLAIN[0]],
]


PLAIN.append({**PLAIN[0], "note": "   "})  # a note may be blank: stored as ""


@pytest.mark.parametrize("body", PLAIN)
def test_a_plain_scan_is_validated_as_the_serializer_validates_it(body):
    serializer = ScanSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    assert plain_scan(body) == dict(serializer.validated_data)
    assert isinstance(plain_scan(body)["client_uuid"], uuid.UUID)


@pytest.mark.parametrize("body", NOT_PLAIN)
def test_anything_else_is_left_to_the_serializer(body):
    assert plain_scan(body) is None
    if isinstance(body, dict) and "run" in body:
        assert not ScanSerializer(data=body).is_valid()  # refused there, with its words
