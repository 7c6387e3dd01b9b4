"""How far back and ahead a recorded time may be: the plausible window every record from a
device or an integration is held to (access events, rounds, shifts).

Older times are almost always a clock that was reset (1970, 2000-01-01) or a typo (year 1);
stored, they sort as the oldest record, pass retention at once and, for a door event, raise an
alarm about a day nobody lived. Ten years is longer than any retention we know of; an older
archive is a migration, not a feed.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PLAUSIBLE_PAST = timedelta(days=3653)
# How far ahead an integration's clock may be (any time zone mistake is seen, not stored).
PLAUSIBLE_FUTURE = timedelta(days=1)


# The days a filter, report or sheet takes: a day's midnight must exist in every time zone,
# the day after's too (`date_to` reads up to the next midnight), so years 1 and 9999 are out.
FIRST_FILTER_DAY, LAST_FILTER_DAY = date(2, 1, 1), date(9998, 12, 31)


def check_filter_day(day: date) -> None:
    """Refuse a day (a filter's from/to, a report's or a sheet's day) whose midnight cannot
    be computed in every site's time zone (pages and the API answered 500: "year 10000 is
    out of range"), with an error naming the field."""
    if not FIRST_FILTER_DAY <= day <= LAST_FILTER_DAY:
        raise ValidationError(_("Choose a day between the years 2 and 9998."), code="out_of_range")


def path_day(value: str) -> date | None:
    """The day a page's path names (yyyy-mm-dd, within the filter days), or None for anything
    else: the visitor sheet and the site's day report read their day so, and answer 404."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None  # date.fromisoformat also takes 20261201 and 2026-W48-2
    try:
        day = date.fromisoformat(value)
        check_filter_day(day)
    except (ValueError, ValidationError):
        return None
    return day
