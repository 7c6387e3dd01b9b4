"""Filters shared by the API's lists."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time in any offset, compared in UTC. Offsets the database cannot take
    (e.g. -21:32) and times that fall off the calendar are a 400 naming the parameter."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except (OverflowError, ValueError):
                raise ValidationError({self.field_name: "This time is out of range."}) from None
        return super().filter(qs, value)
