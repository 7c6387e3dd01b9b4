"""The dashboard's period: local days from `start` to `end` (inclusive) and the buckets the
figures over time are grouped in (days up to 31 days, ISO weeks up to 120, else months)."""

from dataclasses import dataclass
from datetime import date, timedelta

MAX_DAYS = 731  # two years: enough for "last 12 months" side by side, bounded for the charts
PRESETS = {
    "30d": "Last 30 days",
    "this_month": "This month",
    "last_month": "Last month",
    "12m": "Last 12 months",
}


@dataclass(frozen=True)
class Period:
    """Local days `start`..`end`, both included, in each site's own time zone."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def unit(self) -> str:
        if self.days <= 31:
            return "day"
        if self.days <= 120:
            return "week"
        return "month"

    def bucket_of(self, day: date) -> date:
        """The first day of the bucket `day` falls in (a Monday for weeks)."""
        if self.unit == "week":
            return day - timedelta(days=day.weekday())
        if self.unit == "month":
            return day.replace(day=1)
        return day

    def buckets(self) -> list[date]:
        """Every bucket of the period in order, empty ones included."""
        found, day = [], self.start
        while day <= self.end:
            bucket = self.bucket_of(day)
            if not found or found[-1] != bucket:
                found.append(bucket)
            day += timedelta(days=1)
        return found

    def bucket_days(self, bucket: date) -> tuple[date, date]:
        """The days of `bucket` inside the period (the first and last bucket may be cut)."""
        if self.unit == "week":
            last = bucket + timedelta(days=6)
        elif self.unit == "month":
            last = _next_month(bucket) - timedelta(days=1)
        else:
            last = bucket
        return max(bucket, self.start), min(last, self.end)

    def bucket_label(self, bucket: date) -> str:
        if self.unit == "month":
            return f"{bucket:%Y-%m}"
        if self.unit == "week":
            year, week, _ = bucket.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{bucket:%m-%d}"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_period(year: int, month: int) -> Period:
    """One calendar month (the monthly site report)."""
    first = date(year, month, 1)
    return Period(first, _next_month(first) - timedelta(days=1))


def preset_period(name: str, today: date) -> Period:
    """A named period ending today (or last month); unknown names give the last 30 days."""
    if name == "this_month":
        return Period(today.replace(day=1), today)
    if name == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return month_period(last.year, last.month)
    if name == "12m":
        first = _next_month(today.replace(day=1, year=today.year - 1))
        return Period(first, today)
    return Period(today - timedelta(days=29), today)
