"""Paging for the API's lists.

Short lists page by `limit`/`offset` (at most 500 rows a page, offsets kept to what a
database can count: a huge `limit` or `offset` is clamped instead of failing in SQL).

The long lists (access events, scans) page by cursor: `KeysetPagination`, newest first in
`(time, id)` order, `next`/`previous` links carrying `?cursor=`, no `count` (counting a
million rows on every call is what made these lists slow). Each page costs the same however
deep it is, and a client walking `next` sees every row once even while new rows arrive.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from facility_log import paging

MAX_OFFSET = 2**31 - 1


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)


class KeysetPagination(BasePagination):
    """Cursor pages of a long list. The view names the list's time field
    (`keyset_time_field`) and may set `keyset_split` = (field, values) in `get_queryset`:
    the site ids the queryset is scoped to, read apart and merged (facility_log/paging.py)."""

    cursor_query_param = "cursor"
    limit_query_param = "limit"
    default_limit = 50
    max_limit = 500

    def paginate_queryset(self, queryset, request, view=None):
        if "offset" in request.query_params:
            raise serializers.ValidationError(
                {"offset": ["This list pages by cursor: follow `next` (?cursor=…)."]}
            )
        self.request = request
        self.limit = self._limit(request)
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
            raise serializers.ValidationError({self.cursor_query_param: [str(error)]}) from None
        return self.page.rows

    def _limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw in (None, ""):
            return self.default_limit
        if not raw.isdigit() or int(raw) == 0:
            raise serializers.ValidationError(
                {self.limit_query_param: ["A whole number from 1 to 500."]}
            )
        return min(int(raw), self.max_limit)

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
                "description": f"Rows per page, 1 to {self.max_limit} (default "
                f"{self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
        ]
