"""A client generated from our schema by openapi-python-client works, unpatched: it imports,
and it drives an incident through its whole life and an access-event batch against a live
server, parsing every answer into its typed models.

The schema is the one `manage.py spectacular` writes. Skipped only when openapi-python-client
is not installed (it is a dev dependency, so CI has it)."""

import importlib
import importlib.util
import io
import pkgutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from facility_log.models import Category
from facility_log.services import incidents as incident_svc
from facility_log.services.accounts import issue_api_token
from tests.access.helpers import door
from tests.incident_factories import png_bytes

PACKAGE = "facility_log_client"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("openapi_python_client") is None,
    reason="openapi-python-client is not installed (pip install -e '.[dev]')",
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package, generated into a temporary folder and imported whole."""
    where = tmp_path_factory.mktemp("client")
    schema = where / "schema.yaml"
    call_command("spectacular", file=str(schema), validate=True, fail_on_warn=True)
    config = where / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run on the generated code
    subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(where / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    sys.path.insert(0, str(where))
    try:
        package = importlib.import_module(PACKAGE)
        modules = {
            info.name: importlib.import_module(info.name)
            for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.")
        }
        yield modules
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _api(generated, tag: str, operation: str):
    return generated[f"{PACKAGE}.api.{tag}.{operation}"]


def _client(generated, live_server, personas, who: str):
    user = personas.all_people()[who]
    _token, key = issue_api_token(user, personas.admin, reason="generated client test")
    client_module = generated[f"{PACKAGE}.client"]
    return client_module.AuthenticatedClient(base_url=live_server.url, token=key, prefix="Token")


def test_every_generated_module_imports(generated):
    assert f"{PACKAGE}.api.incidents.incidents_create" in generated
    assert len(generated) > 100


def test_an_incident_lives_its_whole_life_through_the_generated_client(
    generated, live_server, personas
):
    models = generated[f"{PACKAGE}.models"]
    types = generated[f"{PACKAGE}.types"]
    incident_svc.ensure_default_categories(None)
    category = Category.objects.filter(is_active=True).order_by("pk").first()
    guard = _client(generated, live_server, personas, "guard_a")
    supervisor = _client(generated, live_server, personas, "supervisor_a")
    create = _api(generated, "incidents", "incidents_create")

    key = uuid.uuid4()
    body = models.IncidentCreateRequest(
        site=personas.site_a.code,
        client_uuid=key,
        title="Side gate found open",
        narrative="Found the side gate open at 02:10 on the round.",
        occurred_from=datetime(2026, 3, 29, 0, 10, tzinfo=UTC),
        category=category.pk,
        zone=personas.zone_a.pk,
    )
    created = create.sync_detailed(client=guard, body=body)
    assert created.status_code == 201, created.content
    draft = created.parsed
    assert isinstance(draft, models.IncidentDetail)
    assert draft.status == models.IncidentStatusEnum.DRAFT and draft.zone_name

    replay = create.sync_detailed(client=guard, body=body)
    assert replay.status_code == 200 and replay.parsed.id == draft.id
    body.title = "Another title"
    reused = create.sync_detailed(client=guard, body=body)
    assert reused.status_code == 422

    edit = _api(generated, "incidents", "incidents_partial_update")
    edited = edit.sync_detailed(
        draft.id,
        client=guard,
        body=models.PatchedIncidentUpdateRequest(version=draft.version, actions_taken="Closed it"),
    )
    assert edited.status_code == 200, edited.content
    stale = edit.sync_detailed(
        draft.id,
        client=guard,
        body=models.PatchedIncidentUpdateRequest(version=draft.version, title="Too late"),
    )
    assert stale.status_code == 409
    assert isinstance(stale.parsed, models.EditConflictOut)
    assert stale.parsed.current_version == edited.parsed.version

    upload = _api(generated, "incidents", "incidents_attachments_create").sync_detailed(
        draft.id,
        client=guard,
        body=models.AttachmentUploadRequest(
            file=types.File(
                payload=io.BytesIO(png_bytes()),
                file_name="gate.png",
                mime_type="image/png",
            ),
            description="the gate",
        ),
    )
    assert upload.status_code == 201, upload.content
    assert isinstance(upload.parsed, models.Attachment) and len(upload.parsed.sha256) == 64

    submit = _api(generated, "incidents", "incidents_submit_create")
    version = models.VersionReasonRequest(version=edited.parsed.version)
    submitted = submit.sync_detailed(draft.id, client=guard, body=version)
    assert submitted.status_code == 200, submitted.content
    assert submitted.parsed.status == models.IncidentStatusEnum.SUBMITTED

    returned = _api(generated, "incidents", "incidents_return_create").sync_detailed(
        draft.id, client=supervisor, body=models.CommentRequest(comment="Add the time you left.")
    )
    assert returned.status_code == 200, returned.content
    assert returned.parsed.status == models.IncidentStatusEnum.RETURNED
    again = submit.sync_detailed(
        draft.id,
        client=guard,
        body=models.VersionReasonRequest(version=returned.parsed.version, reason="answered"),
    )
    assert again.status_code == 200, again.content
    approved = _api(generated, "incidents", "incidents_approve_create").sync_detailed(
        draft.id, client=supervisor, body=models.CommentRequest(comment="Thanks.")
    )
    assert approved.status_code == 200, approved.content
    assert approved.parsed.status == models.IncidentStatusEnum.APPROVED

    added = _api(generated, "incidents", "incidents_supplements_create").sync_detailed(
        draft.id,
        client=guard,
        body=models.SupplementRequest(text="The lock was cut.", reason="seen in daylight"),
    )
    assert added.status_code == 201, added.content
    supplements = _api(generated, "incidents", "incidents_supplements_list").sync_detailed(
        draft.id, client=guard
    )
    assert supplements.status_code == 200
    assert [s.text for s in supplements.parsed.results] == ["The lock was cut."]
    attachments = _api(generated, "incidents", "incidents_attachments_list").sync_detailed(
        draft.id, client=guard
    )
    assert attachments.parsed.count == 1

    listed = _api(generated, "incidents", "incidents_list").sync_detailed(client=guard)
    assert listed.status_code == 200
    assert draft.id in [i.id for i in listed.parsed.results]
    detail = _api(generated, "incidents", "incidents_retrieve").sync_detailed(
        draft.id, client=guard
    )
    assert detail.parsed.number and len(detail.parsed.supplements) == 1

    outsider = _client(generated, live_server, personas, "outsider_c")
    hidden = _api(generated, "incidents", "incidents_retrieve").sync_detailed(
        draft.id, client=outsider
    )
    assert hidden.status_code == 404


def test_an_access_event_batch_through_the_generated_client(generated, live_server, personas):
    models = generated[f"{PACKAGE}.models"]
    door(personas.site_a, personas.zone_a, "D-GEN")
    manager = _client(generated, live_server, personas, "manager_ab")
    send = _api(generated, "access_events", "access_events_create")
    items = [
        models.AccessEventItemRequest(
            source="ctl-gen",
            external_id="gen-1",
            occurred_at="2026-03-29T01:30:00+01:00",
            door="D-GEN",
            event_type="granted",
            direction="in",
        ),
        models.AccessEventItemRequest(
            source="ctl-gen",
            external_id="gen-2",
            occurred_at="2026-03-29T01:31:00+01:00",
            door="D-GEN",
            event_type="denied",
            reason="expired",
        ),
    ]
    first = send.sync_detailed(client=manager, body=items, site=personas.site_a.code)
    assert first.status_code == 201, first.content
    assert isinstance(first.parsed, models.BatchResult) and first.parsed.created == 2
    retry = send.sync_detailed(client=manager, body=items, site=personas.site_a.code)
    assert retry.status_code == 200 and retry.parsed.duplicates == 2

    page = _api(generated, "access_events", "access_events_list").sync_detailed(
        client=manager, source="ctl-gen"
    )
    assert page.status_code == 200, page.content
    by_id = {e.external_id: e for e in page.parsed.results}
    assert by_id["gen-1"].reason is None and by_id["gen-2"].direction is None
    assert by_id["gen-2"].reason == models.ReasonEnum.EXPIRED

    guard = _client(generated, live_server, personas, "outsider_c")
    refused = send.sync_detailed(client=guard, body=items, site=personas.site_a.code)
    assert refused.status_code == 404
