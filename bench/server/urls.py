"""The application's URLs plus a bare one-row write, the baseline the benchmarks compare a
real write with: the same server, middleware and database, and nothing of the application's
own work (no authentication, no validation, no history, no ledger)."""

import json
import uuid

from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
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


urlpatterns = [path("bench/bare-write/", bare_write), *app_urlpatterns]
