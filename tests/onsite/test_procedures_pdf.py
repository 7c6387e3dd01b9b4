"""The police PDF prints the procedure of the incident's category with its ticks: each step
done or not, who and when in the site's time, and a tick taken back with its reason."""

import subprocess

import pytest

from facility_log.services import procedures
from facility_log.services.incident_package import build_incident_package
from facility_log.templatetags.facility_log_tags import site_time
from tests.incident_factories import seed_site_a_incident
from tests.services.test_incident_package import _members

pytestmark = pytest.mark.django_db
STEPS = ["Secure the lobby desk", "Call the police", "Keep the camera footage"]


def test_the_police_pdf_prints_the_procedure_with_its_ticks(personas, tmp_path):
    incident = seed_site_a_incident(personas)
    procedures.save_procedure(
        personas.site_a,
        personas.manager_ab,
        title="Theft at the desk",
        steps=STEPS,
        category=incident.category,
        reason="agreed with the insurer",
    )
    first, _ = procedures.tick_step(personas.guard_a, incident=incident, step_number=1)
    procedures.tick_step(personas.guard_a, incident=incident, step_number=3)
    procedures.tick_step(
        personas.supervisor_a, incident=incident, step_number=3, undo=True, reason="not yet kept"
    )
    data, _ = build_incident_package(
        incident, personas.supervisor_a, recipient="City Police", reason="theft investigation"
    )
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_members(data)["report.pdf"])
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert "Procedure followed" in flat and "Theft at the desk" in flat
    for number, step in enumerate(STEPS, start=1):
        assert f"{number}. {step}" in flat, flat[flat.index("Procedure followed") :][:800]
    assert site_time(first.ticked_at, personas.site_a) in flat
    assert "taken back: not yet kept" in flat and "supervisor_a" in flat and "guard_a" in flat


def test_an_incident_without_a_procedure_prints_none(personas, tmp_path):
    incident = seed_site_a_incident(personas)
    data, _ = build_incident_package(
        incident, personas.supervisor_a, recipient="City Police", reason="theft investigation"
    )
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_members(data)["report.pdf"])
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Procedure followed" not in text
