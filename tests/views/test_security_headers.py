"""Security headers: a Content-Security-Policy without inline scripts, a Permissions-Policy
that allows only the camera (for this origin: the tablet scans QR codes), and
`Cache-Control: no-store` on incident pages, API answers and CSV exports."""

import re
from pathlib import Path

from django.urls import reverse

from tests.incident_factories import draft

TEMPLATES = Path(__file__).resolve().parents[2] / "facility_log" / "templates"


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_carry_a_content_security_policy_without_inline_scripts(personas, client_for):
    response = client_for("guard_a").get("/tablet/")
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["worker-src"] == ["'self'"]  # the tablet's service worker
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    # The sign-in page too, before anyone is signed in.
    assert "Content-Security-Policy" in client_for("guard_a").get("/login/").headers


def test_no_template_has_an_inline_script_without_the_nonce():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            executable = 'type="application/json"' not in tag
            if executable and "src=" not in tag and "csp_nonce" not in tag:
                offenders.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert offenders == []


def test_permissions_policy_allows_only_the_camera_for_this_origin(personas, client_for):
    for url in ("/tablet/", "/login/", "/api/v1/sites/"):
        header = client_for("guard_a").get(url)["Permissions-Policy"]
        features = dict(item.strip().split("=") for item in header.split(","))
        assert features.pop("camera") == "(self)"
        assert features and set(features.values()) == {"()"}
        assert {"geolocation", "microphone"} <= set(features)


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_incident_pages_api_answers_and_csv_exports_are_not_stored(personas, client_for):
    incident = draft(personas)
    supervisor = client_for("supervisor_a")
    for url in (
        reverse("incident-list"),
        reverse("incident-page", args=[incident.pk]),
        reverse("incident-history", args=[incident.pk]),
        reverse("incident-export"),
        reverse("access-event-list") + "?format=csv",
        "/api/v1/incidents/",
        f"/api/v1/incidents/{incident.pk}/",
    ):
        response = supervisor.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), url
    assert supervisor.get(reverse("access-event-list") + "?format=csv")["Content-Type"].startswith(
        "text/csv"
    )


def test_the_api_docs_load_under_the_policy(personas, client_for):
    client = client_for("manager_ab")
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    # The docs' start-up script is a file of this server, not inline.
    assert re.search(rb"<script>\s*\S", page.content) is None
    script = re.search(rb'<script src="(/api/v1/docs/\?script=[^"]*)"', page.content)
    assert script and client.get(script.group(1).decode().replace("&amp;", "&")).status_code == 200
