"""Paging for the API's lists.

Short lists page by `limit`/`offset` (at most 500 rows a page, offsets kept to what a
database can count: a huge `limit` or `offset` is clamped instead of failing in SQL).
`limit` and `offset` are held to what the schema declares: whole numbers (a `limit` of at
least 1) within 64 bits; anything else is a 400 naming the parameter, not silently the
default page.

The long lists (incidents, access events, scans) page by cursor: `KeysetPagination`, newest
first in `(time, id)` order, `next`/`previous` links carrying `?cursor=`, no `count` (counting
a million rows on every call is what made these lists slow). Each page costs the same however
deep it is, and a client walking `next` sees every row once even while new rows arrive. A
cursor that is a string (what the schema says) but not one this server made is a 422.
"""

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from facility_log import paging
from facility_log.api.errors import Unprocessable

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

    def paginate_counted(self, request, ready, read):
        """`paginate_queryset` with the count and the slice read together by
        `read(offset, limit)`, which returns both (same checks, same errors, the same page),
        or None, reading nothing, when `ready(offset, limit)` says it cannot read this slice."""
        limit, offset = self.get_limit(request), self.get_offset(request)
        if not ready(offset, limit):
            return None
        self.request, self.limit = request, limit
        self.count, rows = read(offset, limit)
        self.offset = offset
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.count == 0 or self.offset > self.count:
            return []
        return rows

    def get_schema_operation_parameters(self, view):
        limit, offset = super().get_schema_operation_parameters(view)
        limit["schema"] = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
        limit["description"] += (
            f" Default {self.default_limit}; more than {self.max_limit} gives {self.max_limit}."
        )
        offset["schema"] = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
        return [limit, offset]


class KeysetPagination(BasePagination):
    """Cursor pages of a long list. The view names the list's time field
    (`keyset_time_field`) and may set `keyset_split` = (field, values) in `get_queryset`:
    the site ids the queryset is scoped to, read apart and merged (facility_log/paging.py)."""

    cursor_query_param = "cursor"
    limit_query_param = "limit"
    default_limit = 50
    max_limit = 500

    def _begin(self, request, view) -> None:
        if "offset" in request.query_params:
            raise serializers.ValidationError(
                {"offset": ["This list pages by cursor: follow `next` (?cursor=…)."]}
            )
        self.request = request
        self.limit = self._limit(request)

    def paginate_queryset(self, queryset, request, view=None):
        self._begin(request, view)
        field, values = getattr(view, "keyset_split", (None, None))
        try:
            self.page = paging.keyset_page(
                queryset,
                view.keyset_time_field,
                cursor=request.query_params.get(self.cursor_query_param) or None,
                size=self.limit,
                split_field=field,
                split_values=values,
            )
        except paging.BadCursor as error:
            raise Unprocessable({self.cursor_query_param: [str(error)]}) from None
        return self.page.rows

    def paginate_read(self, request, view, read):
        """`paginate_queryset` with the page read by `read(cursor, size)` (a
        paging.KeysetPage, or None when it cannot read this one: then None, and nothing is
        kept). The same parameters are checked, with the same errors."""
        self._begin(request, view)
        try:
            page = read(request.query_params.get(self.cursor_query_param) or None, self.limit)
        except paging.BadCursor as error:
            raise Unprocessable({self.cursor_query_param: [str(error)]}) from None
        if page is None:
            return None
        self.page = page
        return page.rows

    def _limit(self, request) -> int:
        limit = _whole_number(request, self.limit_query_param, 1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_next_link(self) -> str | None:
        return self._link(self.page.older)

    def get_previous_link(self) -> str | None:
        return self._link(self.page.newer)

    def get_paginated_response(self, data):
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    **link,
                    "description": "The next (older) page; null on the last one.",
                    "example": "https://log.example.org/api/v1/access-events/?cursor=bnwyMDI2",
                },
                "previous": {
                    **link,
                    "description": "The previous (newer) page; null on the first one.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    _("Where the page starts: copy it from `next` or `previous`, never build it.")
                ),
                "schema": {"type": "string"},
            },
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.default_limit}; more than "
                f"{self.max_limit} gives {self.max_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
            },
        ]
