"""The tablet page, its service worker and manifest: what each persona's tablet is given to
keep offline, and what never goes into it."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.services import shifts as shift_services
from facility_log.services.tablet import tag_hint
from facility_log.views.tablet import SHELL_ASSETS
from tests.rounds_helpers import night_route


def _bundle(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="tablet-data" type="application/json">') + len(
        '<script id="tablet-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


@pytest.mark.django_db
def test_guard_tablet_carries_the_sites_routes_and_categories_of_the_guards_site(
    personas, client_for
):
    route, checkpoints = night_route(personas)
    response = client_for("guard_a").get("/tablet/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"
    bundle = _bundle(response)
    assert bundle["user"] == "guard_a"
    assert [s["code"] for s in bundle["sites"]] == [personas.site_a.code]
    (site,) = bundle["sites"]
    assert site["time_zone"] == str(personas.site_a.time_zone)
    (route_data,) = site["routes"]
    assert route_data["name"] == route.name
    assert [s["name"] for s in route_data["stops"]] == [c.name for c in checkpoints]
    assert bundle["categories"], "the incident form needs its categories offline"
    assert {k["value"] for k in bundle["entry_kinds"]} == {
        "patrol",
        "observation",
        "visitor",
        "delivery",
        "maintenance",
        "other",
    }


@pytest.mark.django_db
def test_tag_codes_never_reach_the_tablet_only_a_short_hint(personas, client_for):
    _route, checkpoints = night_route(personas)
    response = client_for("guard_a").get("/tablet/")
    body = response.content.decode()
    stops = _bundle(response)["sites"][0]["routes"][0]["stops"]
    for checkpoint, stop in zip(checkpoints, stops, strict=True):
        assert checkpoint.tag_code not in body
        assert checkpoint.tag_display not in body
        assert stop["hint"] == tag_hint(checkpoint.tag_code)
        assert len(stop["hint"]) == 8


@pytest.mark.django_db
def test_manager_gets_both_sites_outsider_only_their_own(personas, client_for):
    night_route(personas)
    manager = _bundle(client_for("manager_ab").get("/tablet/"))
    assert [s["code"] for s in manager["sites"]] == [personas.site_a.code, personas.site_b.code]
    outsider = client_for("outsider_c").get("/tablet/")
    bundle = _bundle(outsider)
    assert [s["code"] for s in bundle["sites"]] == [personas.site_c.code]
    assert personas.site_a.code not in outsider.content.decode()
    assert "Night round" not in outsider.content.decode()


@pytest.mark.django_db
def test_an_auditor_is_told_they_hold_no_guard_role(personas, client_for):
    response = client_for("auditor_a").get("/tablet/")
    assert _bundle(response)["sites"] == []
    assert "You hold no guard role at any site" in response.content.decode()


@pytest.mark.django_db
def test_the_previous_pass_down_notes_and_an_open_shift_travel_with_the_page(personas, client_for):
    earlier, _ = shift_services.start_shift(
        personas.site_a, personas.supervisor_a, client_uuid=uuid.uuid4()
    )
    shift_services.end_shift(earlier, personas.supervisor_a, pass_down_notes="Gate 3 sticks.")
    mine, _ = shift_services.start_shift(
        personas.site_a, personas.guard_a, client_uuid=uuid.uuid4()
    )
    (site,) = _bundle(client_for("guard_a").get("/tablet/"))["sites"]
    assert site["handover"]["notes"] == "Gate 3 sticks."
    assert site["open_shift"] == {
        "id": mine.pk,
        "client_uuid": str(mine.client_uuid),
        "started_at": mine.started_at.isoformat(),
    }


@pytest.mark.django_db
def test_tablet_page_queries_do_not_grow_with_routes(personas, client_for):
    client = client_for("guard_a")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/tablet/").status_code == 200
        return len(queries)

    night_route(personas, names=("A1", "A2"), minutes=(0, 5), route_name="Short")
    few = count()
    for n in range(6):
        names = tuple(f"R{n}-{i}" for i in range(5))
        night_route(personas, names=names, minutes=(0, 5, 10, 15, 20), route_name=f"Route {n}")
    assert count() == few


@pytest.mark.django_db
def test_service_worker_is_public_and_precaches_the_shell(client, personas):
    response = client.get("/tablet/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/tablet/"
    body = response.content.decode()
    for asset in SHELL_ASSETS:
        assert f"/static/{asset}" in body
    assert '"/tablet/"' in body
    assert "/api/" not in body.split("const TABLET_URL")[0]
    assert personas.site_a.code not in body


@pytest.mark.django_db
def test_manifest_makes_the_tablet_installable(client):
    response = client.get("/tablet/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/tablet/" and manifest["scope"] == "/tablet/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


@pytest.mark.django_db
def test_tablet_page_needs_sign_in(client):
    response = client.get("/tablet/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_tag_hint_is_the_start_of_the_codes_sha256():
    # Computed independently: printf ABCDEFGHJKLM | sha256sum
    import hashlib

    assert tag_hint("ABCDEFGHJKLM") == hashlib.sha256(b"ABCDEFGHJKLM").hexdigest()[:8]
