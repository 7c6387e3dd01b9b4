"""The "Export for police" action on the incident page."""

import hashlib
import io
import tempfile
import zipfile

import pytest
from django.urls import reverse

from facility_log.models import Disclosure, RecordView
from facility_log.services.incident_package import verify_incident_package
from tests.incident_factories import seed_site_a_incident


@pytest.mark.django_db
def test_supervisor_exports_from_the_incident_page(personas, client_for):
    incident = seed_site_a_incident(personas)
    client = client_for("supervisor_a")
    page = client.get(reverse("incident-page", args=[incident.pk])).content.decode()
    url = reverse("incident-police-package", args=[incident.pk])
    assert url in page
    form = client.get(url).content.decode()
    assert '<label for="id_recipient">' in form and '<label for="id_reason">' in form
    response = client.post(
        url, {"recipient": "City Police", "case_number": "77", "reason": "theft"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{incident.number}.zip"'
    data = b"".join(response.streaming_content)
    assert "SHA256SUMS" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert Disclosure.objects.get().case_number == "77"


@pytest.mark.django_db
def test_the_package_is_streamed_from_a_file_that_is_gone_once_sent(
    personas, client_for, tmp_path, monkeypatch
):
    incident = seed_site_a_incident(personas)
    made = []
    real = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda **kw: made.append(real(**kw)) or made[-1])
    url = reverse("incident-police-package", args=[incident.pk])
    response = client_for("manager_ab").post(url, {"recipient": "City Police", "reason": "theft"})
    assert response.streaming
    assert response["Cache-Control"] == "no-store"
    data = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(data)
    # The disclosure log holds the SHA-256 of the very bytes handed over, and they verify.
    assert Disclosure.objects.get().package_sha256 == hashlib.sha256(data).hexdigest()
    path = tmp_path / f"{incident.number}.zip"
    path.write_bytes(data)
    assert verify_incident_package(path) == []
    # Sent: the temporary file is closed, and with it gone (it never had a name on disk).
    assert len(made) == 1 and made[0].closed


@pytest.mark.django_db
def test_missing_recipient_and_reason_are_named_and_nothing_is_disclosed(personas, client_for):
    incident = seed_site_a_incident(personas)
    response = client_for("manager_ab").post(
        reverse("incident-police-package", args=[incident.pk]), {"recipient": "", "reason": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("This field is required") == 2
    assert Disclosure.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"), [("guard_a", 403), ("auditor_a", 403), ("outsider_c", 404)]
)
def test_guards_auditors_and_outsiders_cannot_export(personas, client_for, who, status):
    incident = seed_site_a_incident(personas)
    client = client_for(who)
    url = reverse("incident-police-package", args=[incident.pk])
    assert client.post(url, {"recipient": "x", "reason": "y"}).status_code == status
    assert Disclosure.objects.count() == 0


@pytest.mark.django_db
def test_opening_the_incident_page_is_logged_for_auditors(personas, client_for):
    incident = seed_site_a_incident(personas)
    client_for("supervisor_a").get(reverse("incident-page", args=[incident.pk]))
    view = RecordView.objects.get()
    assert (view.viewer_name, view.object_label) == ("supervisor_a", incident.label)
    html = client_for("auditor_a").get(reverse("audit-overview")).content.decode()
    assert incident.label in html


def _export_form(client, url) -> dict:
    """The form's fields as the page gives them: the one-time export key included."""
    import re

    html = client.get(url).content.decode()
    key = re.search(r'name="export_key" value="([0-9a-f-]{36})"', html).group(1)
    return {"recipient": "City Police", "case_number": "77", "reason": "theft", "export_key": key}


@pytest.mark.django_db
def test_a_second_click_on_export_shows_the_disclosure_instead_of_making_another(
    personas, client_for
):
    incident = seed_site_a_incident(personas)
    client = client_for("supervisor_a")
    url = reverse("incident-police-package", args=[incident.pk])
    data = _export_form(client, url)
    # While the package is being made, the page's script is told "not yet".
    assert client.get(url, {"export": data["export_key"]}).status_code == 204
    first = client.post(url, data)
    assert first["Content-Type"] == "application/zip"
    b"".join(first.streaming_content)
    disclosure = Disclosure.objects.get()

    again = client.post(url, data)
    assert again["Content-Type"].startswith("text/html")
    html = again.content.decode()
    assert f"Exported: disclosure {disclosure.pk}" in html
    assert disclosure.package_sha256 in html
    assert Disclosure.objects.count() == 1
    # The script's question after the download gets the same result page.
    shown = client.get(url, {"export": data["export_key"]})
    assert shown.status_code == 200
    assert f"Exported: disclosure {disclosure.pk}" in shown.content.decode()

    # A new form (a new key) is a new, deliberate export.
    client.post(url, _export_form(client, url))
    assert Disclosure.objects.count() == 2


@pytest.mark.django_db
def test_another_user_cannot_see_an_export_by_its_key(personas, client_for):
    incident = seed_site_a_incident(personas)
    url = reverse("incident-police-package", args=[incident.pk])
    supervisor = client_for("supervisor_a")
    data = _export_form(supervisor, url)
    b"".join(supervisor.post(url, data).streaming_content)
    manager = client_for("manager_ab")
    assert manager.get(url, {"export": data["export_key"]}).status_code == 204
    assert client_for("outsider_c").get(url, {"export": data["export_key"]}).status_code == 404


@pytest.mark.django_db
def test_an_attachment_changed_in_storage_is_named_on_the_page_and_nothing_is_sent(
    personas, client_for
):
    incident = seed_site_a_incident(personas)
    attachment = incident.attachments.get()
    with open(attachment.file.path, "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 1]))
    url = reverse("incident-police-package", args=[incident.pk])
    response = client_for("supervisor_a").post(url, {"recipient": "City Police", "reason": "theft"})
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert "desk.png no longer matches the SHA-256 recorded" in response.content.decode()
    assert not Disclosure.objects.exists()
