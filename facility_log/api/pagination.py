"""Paging for every API list: at most 500 rows a page, offsets kept to what a database can
count (a huge `limit` or `offset` is clamped instead of failing in SQL)."""

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 2**31 - 1


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)
