"""Strict times: RFC 3339 where a format says so, epoch seconds and milliseconds where it allows
them, a plausible window, and the line and field named when a time is refused."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from facility_log.models import AccessEvent, ImportBatch
from facility_log.services import access
from facility_log.services.access_formats import TimeRefused, parse_time, read_generic_csv
from tests.access.helpers import door, ingest, row

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-28T22:00:00Z", datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),
        ("2026-03-28t22:00:00z", datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),
        ("2026-03-28 23:30:00+01:30", datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),
        ("2026-03-29T01:00:00.123456+02:00", datetime(2026, 3, 28, 23, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-28T22:00:00.5-05:00", datetime(2026, 3, 29, 3, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_rfc3339_date_times_are_read_exactly(text, expected):
    assert parse_time(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-03-30X21:25:39Z", "not an RFC 3339"),  # fromisoformat took any separator
        ("2026-03-30", "not an RFC 3339"),
        ("20260330T212539Z", "not an RFC 3339"),
        ("2026-W13-1T21:25:39Z", "not an RFC 3339"),
        ("2026-13-30T21:25:39Z", "not a valid date"),
        ("2026-02-30T21:25:39Z", "not a valid date"),
        ("2026-03-30T24:00:00Z", "not a valid date"),
        ("2026-03-30T21:25:39+25:00", "impossible offset"),
        ("2026-03-30T21:25:39", "no offset"),
        ("0001-01-01T00:00:00Z", "more than ten years ago"),
        ("9999-12-31T23:59:59Z", "more than a day in the future"),
        ("2026-12-01T00:00:00Z", "more than a day in the future"),
        ("1774735200", "not an RFC 3339"),  # epoch only where the format allows it
        ("", "not an RFC 3339"),
    ],
)
def test_anything_else_is_refused_saying_why(text, why):
    with pytest.raises(TimeRefused) as refused:
        parse_time(text, now=NOW)
    assert why in str(refused.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1774735200", datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),
        ("1774735200.25", datetime(2026, 3, 28, 22, 0, 0, 250000, tzinfo=UTC)),
        ("1774735200123", datetime(2026, 3, 28, 22, 0, 0, 123000, tzinfo=UTC)),
        ("2026-03-28T22:00:00Z", datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),
    ],
)
def test_epoch_seconds_and_milliseconds_where_the_format_allows(text, expected):
    assert parse_time(text, epoch=True, now=NOW) == expected


@pytest.mark.parametrize("text", ["0", "253402300799", "99999999999999", "-5", "1e9"])
def test_implausible_epochs_are_refused(text):
    with pytest.raises(TimeRefused):
        parse_time(text, epoch=True, now=NOW)


def _csv(*lines: str):
    header = "source,external_id,occurred_at,door,event_type"
    return read_generic_csv(io.StringIO("\n".join([header, *lines]) + "\n"))


@pytest.mark.django_db
def test_generic_csv_names_the_line_of_a_bad_separator_and_stores_nothing(personas):
    door(personas.site_a, personas.zone_a)
    with pytest.raises(access.IngestRefused) as refused:
        ingest(
            personas.site_a,
            _csv(
                "ctl,1,2026-03-30T21:25:39Z,D-1,granted",
                "ctl,2,2026-03-30X21:25:39Z,D-1,granted",
                "ctl,3,9999-12-31T23:59:59Z,D-1,granted",
            ),
        )
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (3, "occurred_at"),
        (4, "occurred_at"),
    ]
    assert "2026-03-30X21:25:39Z" in refused.value.errors[0].message
    assert (AccessEvent.objects.count(), ImportBatch.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_generic_csv_accepts_epoch_seconds_and_milliseconds(personas):
    door(personas.site_a, personas.zone_a)
    seconds = int((timezone.now() - timedelta(hours=1)).timestamp())
    ingest(
        personas.site_a,
        _csv(f"ctl,s,{seconds},D-1,granted", f"ctl,ms,{seconds * 1000 + 250},D-1,granted"),
    )
    stored = dict(AccessEvent.objects.values_list("external_id", "occurred_at"))
    assert stored["s"] == datetime.fromtimestamp(seconds, tz=UTC)
    assert stored["ms"] == datetime.fromtimestamp(seconds + 0.25, tz=UTC)


@pytest.mark.django_db
def test_the_api_batch_accepts_epoch_numbers_and_names_a_refused_item(personas, api_client_for):
    door(personas.site_a, personas.zone_a)
    url = reverse("api-access-event-list") + f"?site={personas.site_a.code}"
    seconds = int((timezone.now() - timedelta(minutes=5)).timestamp())
    items = [
        {
            "source": "api",
            "external_id": "n",
            "occurred_at": seconds,
            "door": "D-1",
            "event_type": "granted",
        },
        {
            "source": "api",
            "external_id": "m",
            "occurred_at": seconds * 1000,
            "door": "D-1",
            "event_type": "granted",
        },
    ]
    client = api_client_for("manager_ab")
    bad = [*items, dict(items[0], external_id="x", occurred_at="0001-01-01T00:00:00Z")]
    refused = client.post(url, bad, format="json")
    assert refused.status_code == 422  # the body matches the schema; one item's time does not
    assert refused.json()["results"][2]["errors"]["occurred_at"]
    assert AccessEvent.objects.count() == 0
    response = client.post(url, items, format="json")
    assert response.status_code == 201, response.content
    assert set(AccessEvent.objects.values_list("occurred_at", flat=True)) == {
        datetime.fromtimestamp(seconds, tz=UTC)
    }


@pytest.mark.django_db
def test_a_naive_time_in_the_api_is_read_in_the_site_zone_only_when_asked(personas, api_client_for):
    site = personas.site_a
    site.time_zone = "Europe/Berlin"
    site.save()
    door(site, personas.zone_a)
    local = (timezone.now() - timedelta(hours=2)).astimezone(site.tzinfo).replace(microsecond=0)
    item = {
        "source": "api",
        "external_id": "local",
        "door": "D-1",
        "event_type": "granted",
        "occurred_at": local.replace(tzinfo=None).isoformat(),
    }
    url = reverse("api-access-event-list") + f"?site={site.code}"
    client = api_client_for("manager_ab")
    refused = client.post(url, [item], format="json")
    assert "has no offset" in refused.json()["results"][0]["errors"]["occurred_at"][0]
    assert client.post(url + "&site_time=true", [item], format="json").status_code == 201
    assert AccessEvent.objects.get().occurred_at == local


@pytest.mark.django_db
def test_a_row_helper_time_still_imports(personas):
    door(personas.site_a, personas.zone_a)
    assert ingest(personas.site_a, [row()]).created == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-03-30T21:25:39+23:59", "impossible offset"),  # PostgreSQL cannot store it
        ("2026-03-30T21:25:39-14:30", "impossible offset"),
        ("0001-01-01T00:00:00+01:00", "outside the plausible window"),  # was an OverflowError
        ("9999-12-31T23:59:59-01:00", "outside the plausible window"),
    ],
)
def test_offsets_no_clock_uses_and_times_off_the_calendar_are_refused(text, why):
    with pytest.raises(TimeRefused) as refused:
        parse_time(text, now=NOW)
    assert why in str(refused.value)


def test_the_largest_real_offsets_are_read():
    assert parse_time("2026-03-29T12:00:00+14:00", now=NOW) == datetime(2026, 3, 28, 22, tzinfo=UTC)
    assert parse_time("2026-03-28T10:00:00-12:00", now=NOW) == datetime(2026, 3, 28, 22, tzinfo=UTC)
