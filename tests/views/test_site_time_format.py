"""`site_time` writes a time as strftime wrote it ("2026-03-29 03:15 CEST (UTC+02:00)"),
without strftime per time: compared with the strftime version over zones with whole, half
and quarter hour offsets, offsets in seconds (local mean time before 1900), around daylight
saving transitions, and years before 1000."""

import zoneinfo
from datetime import UTC, datetime, timedelta

from facility_log.templatetags.facility_log_tags import _format_local, site_time

ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Africa/Monrovia",
    "Europe/Amsterdam",
    "Pacific/Kiritimati",
    "America/Adak",
)


def _strftime_version(value: datetime, tzinfo) -> str:
    local = value.astimezone(tzinfo)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def _times():
    start = datetime(2026, 3, 27, tzinfo=UTC)
    yield from (start + timedelta(minutes=7 * n, seconds=n % 60) for n in range(1500))
    start = datetime(2026, 10, 23, tzinfo=UTC)
    yield from (start + timedelta(minutes=7 * n, microseconds=n) for n in range(1500))
    for year in (1, 9, 99, 999, 1000, 1850, 1890, 1920, 1937, 1970, 2038, 9998):
        yield datetime(year, 6, 15, 23, 59, 59, 999999, tzinfo=UTC)
        yield datetime(year, 1, 1, 0, 0, tzinfo=UTC)


def test_site_time_is_what_strftime_wrote():
    for name in ZONES:
        zone = zoneinfo.ZoneInfo(name)
        for value in _times():
            try:
                expected = _strftime_version(value, zone)
            except OverflowError:
                continue
            assert _format_local(value, zone) == expected, (name, value)
            assert _format_local(value, zone) == expected  # the second from what was kept


def test_site_time_of_nothing_is_a_dash():
    class Site:
        tzinfo = zoneinfo.ZoneInfo("Europe/Berlin")

    assert site_time(None, Site()) == "—"
    at = datetime(2026, 3, 29, 1, 15, tzinfo=UTC)
    assert site_time(at, Site()) == "2026-03-29 03:15 CEST (UTC+02:00)"
