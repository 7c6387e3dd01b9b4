"""The incident page written in one pass (templatetags/incident_page_body.py and
incident_page_lists.py) gives the bytes its template gave: the template and the legal-hold
include as they were are kept in tests/views/incident_page_before/ and rendered, with the
same context, in place of the new page by the same request. Every workflow status (the
actions differ), every persona that may see the page (the outsider at C gets 404), English
and German, hostile values in every field and list, and the page's parts present and absent:
people, vehicles, property, images and files and a redacted copy, supplements, reviews and
corrections in the timeline, door events, scans and a linked alarm around it, a legal hold
placed and released, the procedure's checklist, police and threat details."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.template.backends.django import DjangoTemplates
from django.urls import reverse
from django.utils import timezone

from facility_log.forms.incidents import AttachmentForm
from facility_log.models import Alarm, Incident
from facility_log.services import incidents as svc
from facility_log.services import links, procedures, retention
from facility_log.templatetags.facility_log_tags import form_fields
from facility_log.views.incidents import detail
from tests.access.helpers import door, ingest, row
from tests.incident_factories import draft, png_bytes
from tests.onsite.procedure_helpers import incident_procedure
from tests.rounds_helpers import night_route, walk

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"Ö\" 'q' 100% {} %(x)s \u202eRTL\u202c 🚨"
VIEWERS = ("guard_a", "supervisor_a", "manager_ab")
STATUSES = ("draft", "submitted", "returned", "approved", "closed", "void")
BEFORE = Path(__file__).parent / "incident_page_before"
# The project's template settings, the kept templates found first.
_OLD_ENGINE = DjangoTemplates(
    {
        "NAME": "incident_page_before",
        "DIRS": [BEFORE],
        "APP_DIRS": True,
        "OPTIONS": settings.TEMPLATES[0]["OPTIONS"],
    }
)


def _old_render(request, name, context):
    """`render` by the kept template (the page before this change), the same context but
    the attachment form built and written whole, as the view did."""
    assert name == "facility_log/incidents/detail.html"
    if context["attachment_form"] is not None:
        form = AttachmentForm(
            auto_id="attach_%s", incident=context["incident"], attachments=context["attachments"]
        )
        context = {**context, "attachment_form": form_fields(form)}
    return HttpResponse(_OLD_ENGINE.get_template(name).render(context, request))


def _normalised(html: str) -> str:
    """The page without what differs on every request (the masked CSRF token, the nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _compare(client, incident, language, monkeypatch) -> str:
    """The page by the new path and by the kept template; returns the new page."""
    url = reverse("incident-page", args=[incident.pk])
    new = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    with monkeypatch.context() as patch:
        patch.setattr(detail, "render", _old_render)
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert new.status_code == old.status_code == 200
    html = new.content.decode()
    assert _normalised(html) == _normalised(old.content.decode()), (incident.status, language)
    return html


def _rich(p, *, author=None, **fields) -> Incident:
    """A draft with every part the page shows filled with hostile text."""
    fields = {
        "title": HOSTILE,
        "location_text": HOSTILE,
        "narrative": f"{HOSTILE}\nline two\r\nline three",
        "actions_taken": f"{HOSTILE}\n{HOSTILE}",
        "police_notified": True,
        "police_agency": HOSTILE,
        "police_case_number": "",
        "police_officer": HOSTILE,
        "police_notified_at": timezone.now() - timedelta(hours=1),
        "threat_channel": "phone",
        "threat_words": f"{HOSTILE}\n{HOSTILE}",
        "threat_target": "",
        "occurred_from": timezone.now() - timedelta(hours=2),
        "occurred_to": timezone.now() - timedelta(hours=1, minutes=30),
        **fields,
    }
    incident = draft(p, author=author, **fields)
    author = author or p.guard_a
    svc.add_person(
        incident,
        author,
        role="witness",
        name=HOSTILE,
        description=HOSTILE,
        contact=HOSTILE,
        statement=f"{HOSTILE}\n{HOSTILE}",
    )
    svc.add_person(incident, author, role="suspect")
    svc.add_vehicle(incident, author, registration=HOSTILE[:20], make_model=HOSTILE[:40])
    svc.add_property_item(
        incident, author, kind="stolen", description=HOSTILE, value=Decimal("1234.50")
    )
    svc.add_property_item(incident, author, kind="damaged", description="door")
    image = svc.add_attachment(
        incident,
        author,
        upload=SimpleUploadedFile(f"{HOSTILE}.png", png_bytes((3, 3))),
        description=HOSTILE,
    )
    svc.add_attachment(
        incident,
        author,
        upload=SimpleUploadedFile("copy.png", png_bytes((4, 4))),
        redacted_from=image,
    )
    svc.add_attachment(incident, author, upload=SimpleUploadedFile("plain.png", png_bytes()))
    return incident


def _in_status(p, status: str) -> Incident:
    incident = _rich(p)
    if status == "draft":
        return Incident.objects.get(pk=incident.pk)
    if status == "void":
        return svc.void_incident(incident, p.guard_a, reason=HOSTILE)
    incident = svc.submit_incident(incident, p.guard_a)
    svc.add_supplement(incident, p.guard_a, text=HOSTILE, reason=HOSTILE)
    svc.correct_field(incident, p.guard_a, field="location_text", value="", reason=HOSTILE)
    if status == "returned":
        return svc.return_incident(incident, p.supervisor_a, comment=HOSTILE)
    if status in ("approved", "closed"):
        incident = svc.approve_incident(incident, p.supervisor_a, comment=HOSTILE)
    if status == "closed":
        incident = svc.close_incident(incident, p.manager_ab, reason=HOSTILE)
    return Incident.objects.get(pk=incident.pk)


@pytest.fixture
def around(personas):
    """A procedure for the incidents' category; door events, a linked alarm and scans at A
    two hours ago (around every incident made here)."""
    p = personas
    incident_procedure(p)
    at = timezone.now() - timedelta(hours=2)
    door(p.site_a, p.zone_a)
    ingest(
        p.site_a,
        [
            row(
                line=2,
                external_id="around-1",
                occurred_at=at.isoformat(),
                event_type="denied",
                reason="expired",
                cardholder=HOSTILE,
            ),
            row(
                line=3,
                external_id="around-2",
                occurred_at=(at + timedelta(minutes=3)).isoformat(),
                event_type="forced_open",
            ),
        ],
    )
    route, checkpoints = night_route(p, names=(HOSTILE[:30],), minutes=(0,))
    walk(p, route, checkpoints, at, (0,))
    return at


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("status", STATUSES)
def test_every_status_for_every_persona_is_the_bytes_it_was(
    personas, around, client_for, monkeypatch, status, language
):
    incident = _in_status(personas, status)
    for viewer in VIEWERS:
        html = _compare(client_for(viewer), incident, language, monkeypatch)
        assert "<script>alert" not in html and "&lt;script&gt;alert" in html
        assert ('lang="de"' in html) is (language == "de")
    url = reverse("incident-page", args=[incident.pk])
    assert client_for("outsider_c").get(url).status_code == 404


@pytest.mark.parametrize("language", ["en", "de"])
def test_hold_checklist_linked_alarm_and_the_bare_draft(
    personas, around, client_for, monkeypatch, language
):
    p = personas
    incident = _in_status(p, "returned")
    retention.place_legal_hold(incident, p.manager_ab, reason=HOSTILE)
    procedures.tick_step(p.guard_a, step_number=1, incident=incident)
    alarm = Alarm.objects.get(event__external_id="around-2")
    opened = links.open_incident_from_alarm(alarm, p.supervisor_a)
    bare = draft(p, zone=None, category=None, narrative="")  # no zone, category, lists
    held_then_released = _in_status(p, "approved")
    retention.place_legal_hold(held_then_released, p.manager_ab, reason=HOSTILE)
    retention.release_legal_hold(held_then_released, p.manager_ab, reason=HOSTILE)
    by_supervisor = _rich(p, author=p.supervisor_a)  # the guard may not edit it
    for viewer in VIEWERS:
        client = client_for(viewer)
        for each in (incident, opened, bare, held_then_released, by_supervisor):
            html = _compare(client, each, language, monkeypatch)
            assert "<script>alert" not in html
    html = _compare(client_for("manager_ab"), incident, language, monkeypatch)
    assert 'id="procedure"' in html and "&lt;script&gt;alert" in html  # hold, checklist
    html = _compare(client_for("supervisor_a"), opened, language, monkeypatch)
    assert 'class="badge"' in html  # the linked alarm's row
