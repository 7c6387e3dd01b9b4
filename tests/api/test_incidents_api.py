"""/api/v1/incidents/: create (idempotent), draft edits with versions, the workflow,
supplements, attachments, errors naming the field, and query counts."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import Attachment, Incident, Supplement
from facility_log.services import incidents as svc
from tests.incident_factories import category, draft, jpeg_bytes, png_bytes, submitted


def _payload(personas, **extra):
    body = {
        "site": "ALPHA",
        "client_uuid": str(uuid.uuid4()),
        "category": category("Theft").pk,
        "severity": "medium",
        "zone": personas.zone_a.pk,
        "occurred_from": "2026-11-26T01:30:00Z",
        "narrative": "Copper cable cut at the fence.",
        "persons": [{"role": "witness", "name": "Ann", "statement": "Heard a saw."}],
        "vehicles": [{"registration": "B-CU 42", "colour": "white"}],
        "property_items": [{"kind": "stolen", "description": "Copper cable", "value": "800.00"}],
    }
    body.update(extra)
    return body


@pytest.mark.django_db
def test_create_then_retry_returns_the_same_incident(personas, api_client_for):
    client = api_client_for("guard_a")
    body = _payload(personas)
    first = client.post("/api/v1/incidents/", body, format="json")
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/incidents/", body, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["persons"][0]["name"] == "Ann"
    assert first.json()["vehicles"][0]["registration"] == "B-CU 42"
    assert first.json()["property_items"][0]["value"] == "800.00"
    assert Incident.objects.count() == 1
    changed = {**body, "vehicles": [{"registration": "OTHER"}]}
    assert client.post("/api/v1/incidents/", changed, format="json").status_code == 422


@pytest.mark.django_db
def test_same_client_uuid_with_a_different_payload_is_422(personas, api_client_for):
    client = api_client_for("guard_a")
    body = _payload(personas)
    assert client.post("/api/v1/incidents/", body, format="json").status_code == 201
    body["narrative"] = "Something else entirely"
    response = client.post("/api/v1/incidents/", body, format="json")
    assert response.status_code == 422
    assert "client_uuid" in response.json()
    assert Incident.objects.get().narrative == "Copper cable cut at the fence."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"severity": "apocalyptic"}, "severity"),
        ({"occurred_to": "2026-11-26T00:00:00Z"}, "occurred_to"),
        ({"site": "CHARLIE"}, "site"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"persons": [{"role": "spy"}]}, "persons"),
        ({"property_items": [{"kind": "stolen", "description": ""}]}, "property_items"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(personas, api_client_for, change, field):
    response = api_client_for("guard_a").post(
        "/api/v1/incidents/", _payload(personas, **change), format="json"
    )
    # 400: the body does not match the schema; 422: it does, but is refused for its content.
    expected = 422 if field in {"occurred_to", "site"} else 400
    assert response.status_code == expected, response.content
    assert field in response.json()
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_zone_of_another_site_is_refused(personas, api_client_for):
    response = api_client_for("guard_a").post(
        "/api/v1/incidents/", _payload(personas, zone=personas.zone_c.pk), format="json"
    )
    assert response.status_code == 422
    assert "zone" in response.json()


@pytest.mark.django_db
def test_stale_draft_edit_is_409_with_the_stored_version(personas, api_client_for):
    incident = draft(personas)
    client = api_client_for("guard_a")
    url = f"/api/v1/incidents/{incident.pk}/"
    ok = client.patch(url, {"version": incident.version, "title": "Mine"}, format="json")
    assert ok.status_code == 200, ok.content
    stale = client.patch(url, {"version": incident.version, "title": "Old"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == incident.version + 1
    assert stale.json()["current"]["title"] == "Mine"
    assert Incident.objects.get(pk=incident.pk).title == "Mine"


@pytest.mark.django_db
def test_edit_without_version_names_the_field(personas, api_client_for):
    incident = draft(personas)
    response = api_client_for("guard_a").patch(
        f"/api/v1/incidents/{incident.pk}/", {"title": "x"}, format="json"
    )
    assert response.status_code == 422
    assert "version" in response.json()


@pytest.mark.django_db
def test_submitted_narrative_cannot_be_edited_through_the_api(personas, api_client_for):
    incident = submitted(personas)
    client = api_client_for("supervisor_a")
    response = client.patch(
        f"/api/v1/incidents/{incident.pk}/",
        {"version": incident.version, "narrative": "Rewritten"},
        format="json",
    )
    assert response.status_code == 422
    assert "narrative" in response.json()
    correction = client.post(
        f"/api/v1/incidents/{incident.pk}/correct/",
        {"field": "narrative", "value": "Rewritten", "reason": "tidy"},
        format="json",
    )
    assert correction.status_code == 422
    assert "narrative" in correction.json()
    assert Incident.objects.get(pk=incident.pk).narrative == incident.narrative


@pytest.mark.django_db
def test_workflow_through_the_api(personas, api_client_for):
    guard, supervisor = api_client_for("guard_a"), api_client_for("supervisor_a")
    manager = api_client_for("manager_ab")
    created = guard.post("/api/v1/incidents/", _payload(personas), format="json").json()
    base = f"/api/v1/incidents/{created['id']}"
    submitted_ = guard.post(f"{base}/submit/", {"version": created["version"]}, format="json")
    assert submitted_.status_code == 200, submitted_.content
    assert submitted_.json()["number"].startswith("ALPHA-")
    assert supervisor.post(f"{base}/return/", {}, format="json").status_code == 422
    returned = supervisor.post(f"{base}/return/", {"comment": "Which fence?"}, format="json")
    assert returned.json()["status"] == "returned"
    sup = guard.post(
        f"{base}/supplements/", {"text": "North fence.", "reason": "asked"}, format="json"
    )
    assert sup.status_code == 201
    # A nested list pages by offset with a count (not the incidents' cursor).
    listed = guard.get(f"{base}/supplements/")
    assert listed.status_code == 200, listed.content
    assert listed.json()["count"] == 1 and listed.json()["results"][0]["text"] == "North fence."
    assert guard.get(f"{base}/attachments/").json()["count"] == 0
    corrected = guard.post(
        f"{base}/correct/",
        {"field": "severity", "value": "high", "reason": "more cable gone"},
        format="json",
    )
    assert corrected.json()["severity"] == "high"
    assert guard.post(f"{base}/submit/", {}, format="json").json()["status"] == "submitted"
    assert supervisor.post(f"{base}/approve/", {}, format="json").json()["status"] == "approved"
    assert manager.post(f"{base}/close/", {"reason": ""}, format="json").status_code == 422
    closed = manager.post(f"{base}/close/", {"reason": "insurer informed"}, format="json")
    assert closed.json()["status"] == "closed"
    detail = guard.get(f"{base}/").json()
    assert [r["decision"] for r in detail["reviews"]] == ["returned", "approved"]
    assert detail["supplements"][0]["text"] == "North fence."


@pytest.mark.django_db
def test_invalid_transition_is_409_naming_status(personas, api_client_for):
    incident = draft(personas)
    response = api_client_for("supervisor_a").post(
        f"/api/v1/incidents/{incident.pk}/approve/", {}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["status"] == ["A draft incident cannot be approved."]


@pytest.mark.django_db
def test_guard_cannot_approve_or_close(personas, api_client_for):
    incident = submitted(personas)
    guard = api_client_for("guard_a")
    assert guard.post(f"/api/v1/incidents/{incident.pk}/approve/", {}).status_code == 403
    svc.approve_incident(incident, personas.supervisor_a)
    response = guard.post(f"/api/v1/incidents/{incident.pk}/close/", {"reason": "x"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_upload_and_download_an_attachment(personas, api_client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    incident = draft(personas)
    client = api_client_for("guard_a")
    upload = SimpleUploadedFile("door.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(
        f"/api/v1/incidents/{incident.pk}/attachments/",
        {"file": upload, "description": "door"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/jpeg"
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == jpeg_bytes()
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_upload_that_is_not_what_it_claims_is_422_naming_file(personas, api_client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    incident = draft(personas)
    fake = SimpleUploadedFile("photo.jpg", b"<html><script>x</script></html>", "image/jpeg")
    response = api_client_for("guard_a").post(
        f"/api/v1/incidents/{incident.pk}/attachments/", {"file": fake}, format="multipart"
    )
    assert response.status_code == 422
    assert "file" in response.json()
    png_named_jpg = SimpleUploadedFile("photo.pdf", png_bytes(), "application/pdf")
    response = api_client_for("guard_a").post(
        f"/api/v1/incidents/{incident.pk}/attachments/",
        {"file": png_named_jpg},
        format="multipart",
    )
    assert response.status_code == 422
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_supplement_without_reason_names_the_field(personas, api_client_for):
    incident = submitted(personas)
    response = api_client_for("guard_a").post(
        f"/api/v1/incidents/{incident.pk}/supplements/", {"text": "more"}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Supplement.objects.count() == 0


@pytest.mark.django_db
def test_api_list_filters(personas, api_client_for):
    submitted(personas, narrative="Fence cut", severity="high")
    draft(personas, narrative="Lights off")
    client = api_client_for("manager_ab")
    assert len(client.get("/api/v1/incidents/?severity=high").json()["results"]) == 1
    assert len(client.get("/api/v1/incidents/?status=draft").json()["results"]) == 1
    assert len(client.get("/api/v1/incidents/?text=fence").json()["results"]) == 1
    assert len(client.get("/api/v1/incidents/?site=BRAVO").json()["results"]) == 0
    for param in ("date_from=yesterday", "status=lost", "severity=huge", "category=theft"):
        bad = client.get(f"/api/v1/incidents/?{param}")
        assert bad.status_code == 400, param
        assert param.split("=")[0] in bad.json()


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_api_list_query_count_is_the_same_for_10_and_200_incidents(personas, api_client_for):
    client = api_client_for("manager_ab")
    for _ in range(10):
        submitted(personas)
    few = _count(client, "/api/v1/incidents/?limit=500")
    for _ in range(190):
        draft(personas)
    many = _count(client, "/api/v1/incidents/?limit=500")
    assert len(client.get("/api/v1/incidents/?limit=500").json()["results"]) == 200
    assert many == few, (few, many)
    print(f"API list queries: {few} for 10 incidents, {many} for 200")


@pytest.mark.django_db
def test_incidents_are_in_the_openapi_schema(personas, api_client_for):
    schema = api_client_for("guard_a").get("/api/v1/schema/?format=json").json()
    for path in (
        "/api/v1/incidents/",
        "/api/v1/incidents/{id}/",
        "/api/v1/incidents/{id}/submit/",
        "/api/v1/incidents/{id}/return/",
        "/api/v1/incidents/{id}/approve/",
        "/api/v1/incidents/{id}/close/",
        "/api/v1/incidents/{id}/void/",
        "/api/v1/incidents/{id}/supplements/",
        "/api/v1/incidents/{id}/attachments/",
        "/api/v1/attachments/{id}/download/",
    ):
        assert path in schema["paths"], path


@pytest.mark.django_db
def test_vehicles_and_property_are_added_to_drafts_only(personas, api_client_for):
    incident = draft(personas)
    client = api_client_for("guard_a")
    base = f"/api/v1/incidents/{incident.pk}"
    vehicle = client.post(f"{base}/vehicles/", {"registration": "B-AB 1"}, format="json")
    assert vehicle.status_code == 201, vehicle.content
    item = client.post(f"{base}/property/", {"kind": "stolen", "description": "Drill"})
    assert item.status_code == 201, item.content
    bad = client.post(f"{base}/property/", {"kind": "borrowed", "description": "x"})
    assert bad.status_code == 400
    assert "kind" in bad.json()
    detail = client.get(f"{base}/").json()
    assert detail["vehicles"][0]["registration"] == "B-AB 1"
    assert detail["property_items"][0]["description"] == "Drill"
    svc.submit_incident(incident, personas.guard_a)
    late = client.post(f"{base}/vehicles/", {"registration": "LATE"}, format="json")
    assert late.status_code == 422
    assert "status" in late.json()


@pytest.mark.django_db
def test_too_large_upload_is_422_naming_file(personas, api_client_for, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "MAX_UPLOAD_BYTES": 50}
    incident = draft(personas)
    response = api_client_for("guard_a").post(
        f"/api/v1/incidents/{incident.pk}/attachments/",
        {"file": SimpleUploadedFile("big.png", png_bytes(size=(32, 32)))},
        format="multipart",
    )
    assert response.status_code == 422
    assert "limit is 50 bytes" in response.json()["file"][0]
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_submitting_without_the_essentials_names_them(personas, api_client_for):
    client = api_client_for("guard_a")
    created = client.post(
        "/api/v1/incidents/",
        {"site": "ALPHA", "client_uuid": str(uuid.uuid4())},
        format="json",
    ).json()
    response = client.post(f"/api/v1/incidents/{created['id']}/submit/", {}, format="json")
    assert response.status_code == 422
    assert {"category", "narrative"} <= set(response.json())
    assert Incident.objects.get().status == "draft"
    assert Incident.objects.get().number is None


@pytest.mark.django_db
def test_status_or_number_cannot_be_set_by_an_edit(personas, api_client_for):
    incident = draft(personas)
    client = api_client_for("guard_a")
    response = client.patch(
        f"/api/v1/incidents/{incident.pk}/",
        {"version": incident.version, "status": "approved", "number": "ALPHA-1999-0001"},
        format="json",
    )
    assert response.status_code == 400
    assert {"status", "number"} <= set(response.json())
    assert Incident.objects.get(pk=incident.pk).status == "draft"
    created = client.post(
        "/api/v1/incidents/", _payload(personas, narative="typo in the key"), format="json"
    )
    assert created.status_code == 400
    assert "narative" in created.json()


@pytest.mark.django_db
def test_the_same_photo_uploaded_twice_is_stored_once(personas, api_client_for):
    """A tablet whose outbox lost the first answer sends the photo again: 200, same record."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    incident = draft(personas)
    client = api_client_for("guard_a")
    url = f"/api/v1/incidents/{incident.pk}/attachments/"

    def upload(data: bytes):
        return client.post(
            url, {"file": SimpleUploadedFile("door.jpg", data, "image/jpeg")}, format="multipart"
        )

    first = upload(jpeg_bytes())
    again = upload(jpeg_bytes())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = upload(jpeg_bytes(size=(16, 16)))
    assert other.status_code == 201
    assert Attachment.objects.filter(incident=incident).count() == 2
