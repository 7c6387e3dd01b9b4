"""The schema is the contract: schemathesis generates requests from our own OpenAPI document
(the one `manage.py spectacular` writes and /api/v1/schema/ serves) and runs every one of its
checks on every answer — no 500s, only documented status codes and content types, bodies that
match the schema, schema-valid requests accepted and schema-invalid ones refused.

Every operation in the schema is covered automatically (a new endpoint is fuzzed the moment it
is routed), as the manager of sites A and B and as a guard at site A, over a database holding
one record of each kind so the answers have something in them. The examples are the same on
every run (a fixed seed); FUZZ_RANDOM=1 explores new ones, FUZZ_EXAMPLES=N sets how many per
operation.
"""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, seed, settings
from schemathesis.config import SchemathesisConfig

from facility_log.services.accounts import issue_api_token
from tests.fuzz_world import build_fuzz_world

# 10 examples per operation and persona under CI (about 4 minutes a database on 2 cores), 5 on
# a developer's machine; FUZZ_EXAMPLES=N for more.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10" if os.environ.get("CI") == "true" else "5"))
PERSONAS = ["manager_ab", "guard_a"]


# Every check runs. One setting says what the API documents (facility_log/api/errors.py): a
# request the schema allows may still name a record that does not exist among the caller's
# sites (a random zone id or site code), which is a 422, never a 400.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            }
        }
    }
)


def _load_schema():
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(
        json.loads(OpenApiJsonRenderer().render(document)), config=CONFIG
    )
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI app directly, so Django's end-of-request hook would close
    the connection holding the test's transaction (PostgreSQL). Django's own test client
    unhooks it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_headers(personas, request):
    build_fuzz_world(personas)
    user = personas.all_people()[request.param]
    _token, key = issue_api_token(user, personas.admin, reason="schema fuzz")
    return {"Authorization": f"Token {key}"}


@pytest.mark.django_db
@pytest.mark.parametrize("fuzz_headers", PERSONAS, indirect=True)
@schema.parametrize()
@seed(13)
@settings(
    max_examples=EXAMPLES,
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers)
