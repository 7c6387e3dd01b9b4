"""The application's URLs plus the baselines the benchmarks compare the application with: a
bare one-row write and a bare 50-row page. The same server, middleware and database, and
nothing of the application's own work (no authentication, no scoping, no validation, no
history, no ledger, no templates)."""

import json
import uuid

from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html_join
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as app_urlpatterns

BARE_TABLE = "bench_bare_write"
CREATE_BARE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} "
    "(id bigserial PRIMARY KEY, client_uuid uuid NOT NULL UNIQUE, body text NOT NULL,"
    " created_at timestamptz NOT NULL)"
)


@csrf_exempt
@login_not_required
@require_POST
def bare_write(request):
    """Insert the posted JSON as one row, in a transaction, and answer 201 with its id."""
    body = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (client_uuid, body, created_at) VALUES (%s, %s, %s)"  # noqa: S608
            " RETURNING id",
            [str(uuid.UUID(body["client_uuid"])), request.body.decode(), timezone.now()],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


BARE_PAGE_TABLE = "bench_bare_page"
BARE_PAGE_ROWS = 50
CREATE_BARE_PAGE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {BARE_PAGE_TABLE} "
    "(id bigserial PRIMARY KEY, name text NOT NULL, note text NOT NULL,"
    " created_at timestamptz NOT NULL)"
)
FILL_BARE_PAGE_TABLE = (
    f"INSERT INTO {BARE_PAGE_TABLE} (name, note, created_at)"
    " SELECT 'row ' || n, 'a note of some length for row ' || n, now() - n * interval '1 minute'"
    " FROM generate_series(1, 1000) AS n"
)


def _bare_rows(request):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, name, note, created_at FROM {BARE_PAGE_TABLE}"  # noqa: S608
            " ORDER BY id DESC LIMIT %s",
            [BARE_PAGE_ROWS],
        )
        rows = cursor.fetchall()
    body = format_html_join("\n", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return HttpResponse(f"<!doctype html><title>bare</title><table>{body}</table>")


@login_not_required
def bare_page(request):
    """The newest 50 rows of a plain table as an HTML table: one query, no template."""
    return _bare_rows(request)


def signed_in_bare_page(request):
    """The bare page behind the application's sign-in (and second step): what it costs to
    be signed in, before a view does any work of its own (docs/performance.md, "The cost of
    a signed-in request")."""
    return _bare_rows(request)


urlpatterns = [
    path("bench/bare-write/", bare_write),
    path("bench/bare-page/", bare_page),
    path("bench/signed-in-bare-page/", signed_in_bare_page),
    *app_urlpatterns,
]
