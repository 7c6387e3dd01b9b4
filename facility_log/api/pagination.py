"""Paging for every API list: at most 500 rows a page, offsets kept to what a database can
count (a huge `limit` or `offset` is clamped instead of failing in SQL).

`limit` and `offset` are held to what the schema declares: whole numbers (a `limit` of at
least 1) within 64 bits; anything else is a 400 naming the parameter, not silently the
default page."""

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 2**31 - 1
INT64_MAX = 2**63 - 1
_WHOLE = re.compile(r"[0-9]+")


def _whole_number(request, name: str, minimum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not _WHOLE.fullmatch(raw) or not minimum <= int(raw) <= INT64_MAX:
        raise ValidationError({name: [f"A whole number from {minimum} to {INT64_MAX}."]})
    return int(raw)


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

    def get_limit(self, request):
        limit = _whole_number(request, self.limit_query_param, 1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        return min(_whole_number(request, self.offset_query_param, 0) or 0, MAX_OFFSET)

    def get_schema_operation_parameters(self, view):
        limit, offset = super().get_schema_operation_parameters(view)
        limit["schema"] = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
        limit["description"] += (
            f" Default {self.default_limit}; more than {self.max_limit} gives {self.max_limit}."
        )
        offset["schema"] = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
        return [limit, offset]
