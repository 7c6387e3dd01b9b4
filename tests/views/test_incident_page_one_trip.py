"""The incident page read in one round trip (services/incident_page_reads.py), its incident
read compiled once (`incident_page.incident_with_roles`) and its view-log row sent with its
ledger entry (`view_log.record_view(pk=…)`) gives the bytes the page gave when each part was
read on its own: compared with the reads of the code before, in English and German, with
hostile values in every list; the view log still records each view (and nothing for the
outsider), and the ledger stays intact."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Incident, LedgerEntry, RecordView
from facility_log.scoping import REVIEW_ROLES, VIEW_ROLES, get_scoped_with_roles
from facility_log.services import (
    incident_page,
    incident_page_reads,
    links,
    procedures,
    retention,
    view_log,
)
from facility_log.services import incidents as svc
from facility_log.services.accounts import system_actor
from facility_log.services.ledger_held import HeldInsert
from facility_log.services.prepared import with_statements  # EXECUTE as its SQL
from facility_log.services.verify import verify_audit
from tests.access.helpers import door, ingest, row
from tests.incident_factories import draft, png_bytes
from tests.onsite.procedure_helpers import incident_procedure
from tests.rounds_helpers import night_route, walk

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"Ö\""


def _old_reads(incident, using="default", log=None):
    """What the page read before, one read at a time (the code before this change)."""
    assert log is None  # the view-log row is then written the usual way
    attachments = incident_page.attachments(incident)
    sources = incident_page.sources(incident)
    return incident_page_reads.PageReads(
        persons=incident_page.persons(incident),
        vehicles=incident_page.vehicles(incident),
        property_items=incident_page.property_items(incident),
        sources=sources,
        attachments=attachments,
        hold=incident_page.active_hold(incident),
        timeline=None,  # read by incident_timeline itself
        surroundings=None,  # read by incident_surroundings itself
        checklist=procedures.incident_checklist(incident),
        view_pk=None,
    )


def _old_incident(user, pk, roles=VIEW_ROLES):
    incident, held = get_scoped_with_roles(
        Incident.objects.select_related("site", "zone", "category", "author"), user, roles, pk=pk
    )
    return incident, held


def _old_incident_no_view_id(user, pk, roles=VIEW_ROLES):
    return (*_old_incident(user, pk, roles), None)


def _hostile_incident(p):
    incident_procedure(p)  # the Trespass category's: the page shows its checklist
    occurred = timezone.now() - timedelta(hours=2)
    incident = draft(p, occurred_from=occurred, location_text=HOSTILE)
    for i in range(2):
        svc.add_person(incident, p.guard_a, role="witness", name=f"{HOSTILE} {i}")
        svc.add_vehicle(incident, p.guard_a, registration=f"{HOSTILE[:10]}{i}")
        svc.add_property_item(incident, p.guard_a, kind="stolen", description=f"{HOSTILE} {i}")
    incident = svc.submit_incident(incident, p.guard_a)
    svc.add_supplement(incident, p.guard_a, text=HOSTILE, reason=HOSTILE)
    svc.add_attachment(
        incident, p.guard_a, upload=SimpleUploadedFile("<b>x</b>.png", png_bytes((3, 3)))
    )
    incident = svc.return_incident(incident, p.supervisor_a, comment=HOSTILE)
    procedures.tick_step(p.guard_a, step_number=1, incident=incident)
    retention.place_legal_hold(incident, p.manager_ab, reason=HOSTILE)
    door(p.site_a, p.zone_a)
    ingest(
        p.site_a,
        [
            row(
                line=2,
                external_id="hostile-around",
                occurred_at=occurred.isoformat(),
                event_type="denied",
                reason="expired",
                cardholder=HOSTILE,
            )
        ],
    )
    route, checkpoints = night_route(p, names=("Gate",), minutes=(0,))
    walk(p, route, checkpoints, occurred, (0,))
    return Incident.objects.get(pk=incident.pk)


def _normalised(html: str) -> str:
    """The page without what differs on every request (the masked CSRF token, the nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("viewer", ["guard_a", "supervisor_a", "manager_ab"])
def test_the_page_is_the_bytes_it_was(personas, client_for, monkeypatch, language, viewer):
    incident = _hostile_incident(personas)
    url = reverse("incident-page", args=[incident.pk])
    client = client_for(viewer)
    new = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    with monkeypatch.context() as patch:
        patch.setattr(incident_page_reads, "read_page", _old_reads)
        patch.setattr(incident_page, "incident_with_roles_and_view_id", _old_incident_no_view_id)
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert _normalised(new) == _normalised(old)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in new and "<script>alert" not in new
    assert "Ask the person to leave" in new  # the checklist, read in the same trip
    assert ("Beteiligte Personen" in new) is (language == "de")  # in the language asked


def test_one_round_trip_for_the_reads_and_the_view_logs_row(personas, client_for):
    incident = _hostile_incident(personas)
    url = reverse("incident-page", args=[incident.pk])
    client = client_for("supervisor_a")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    statements = [with_statements(q["sql"]) for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        # The incident with the view log's next id; the reads with the row and its entry
        # (services/ledger_one_trip.py); no BEGIN, no COMMIT, no statement of its own.
        (with_id,) = [s for s in statements if "nextval(pg_get_serial_sequence" in s]
        assert '"facility_log_incident"' in with_id and "INSERT" not in with_id
        (write,) = [s for s in statements if "INSERT" in s]
        assert write.index('"facility_log_involvedperson"') < write.index("pg_advisory_xact_lock")
        assert write.index("facility_log_recordview") < write.index("pg_advisory_xact_lock")
        assert write.index("pg_advisory_xact_lock") < write.index('"facility_log_ledgerentry"')
        assert not [s for s in statements if s in ("BEGIN", "COMMIT") or "SAVEPOINT" in s[:9]]
    views = RecordView.objects.filter(object_pk=str(incident.pk), viewer=personas.supervisor_a)
    assert views.count() == 2
    assert verify_audit().intact


def test_each_view_is_logged_with_its_entry_and_the_outsider_gets_nothing(personas, client_for):
    incident = _hostile_incident(personas)
    url = reverse("incident-page", args=[incident.pk])
    before = RecordView.objects.count()
    assert client_for("outsider_c").get(url).status_code == 404  # site C only
    assert client_for("auditor_a").get(url).status_code == 200
    assert RecordView.objects.count() == before + 1
    view = RecordView.objects.order_by("-pk").first()
    assert (view.viewer, view.via, view.object_label) == (
        personas.auditor_a,
        "page",
        incident.record_label,
    )
    entry = LedgerEntry.objects.order_by("-seq").first()
    assert (entry.object_type, entry.object_pk) == ("facility_log.recordview", str(view.pk))
    assert entry.actor_id == personas.auditor_a.pk
    assert verify_audit().intact


def test_a_row_stored_otherwise_than_sent_is_written_again_the_ordinary_way(personas, monkeypatch):
    # Never expected (services/ledger_held.py): the held row and its entry roll back whole,
    # and the view is logged the ordinary way, once, its entry's digest read from the row.
    if connection.vendor != "postgresql":
        pytest.skip("rows are held back on PostgreSQL only")
    incident = _hostile_incident(personas)
    before, seen = RecordView.objects.count(), []

    def stored_otherwise(self, row):
        seen.append(row)
        return {"not": "the row sent"}

    monkeypatch.setattr(HeldInsert, "stored", stored_otherwise)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('facility_log_recordview', 'id'))")
        (pk,) = cursor.fetchone()
    view = view_log.incident_read(personas.supervisor_a, incident, pk=pk)
    assert len(seen) == 1  # the held insert was tried, and refused before its commit
    assert not RecordView.objects.filter(pk=pk).exists() and view.pk != pk
    assert RecordView.objects.count() == before + 1
    assert RecordView.objects.get(pk=view.pk).object_label == incident.record_label
    assert verify_audit().intact


def test_the_compiled_incident_read_refuses_as_scoping_does(personas):
    incident = _hostile_incident(personas)
    p = personas
    for user in (p.guard_a, p.supervisor_a, p.manager_ab, p.auditor_a, p.admin, system_actor()):
        found, held = incident_page.incident_with_roles(user, incident.pk, VIEW_ROLES)
        old, old_held = _old_incident(user, incident.pk)
        assert (found, found.site, found.zone, found.category, found.author) == (
            old,
            old.site,
            old.zone,
            old.category,
            old.author,
        )
        assert held == old_held
    for user in (p.outsider_c,):
        with pytest.raises(Http404, match="No incident found."):
            incident_page.incident_with_roles(user, incident.pk, VIEW_ROLES)
    with pytest.raises(PermissionDenied) as refused:
        incident_page.incident_with_roles(p.guard_a, incident.pk, REVIEW_ROLES)
    with pytest.raises(PermissionDenied) as refused_before:
        _old_incident(p.guard_a, incident.pk, REVIEW_ROLES)
    assert str(refused.value) == str(refused_before.value)
    for pk in (10**30, -(10**30), 0, incident.pk + 10_000):
        with pytest.raises(Http404):
            incident_page.incident_with_roles(p.supervisor_a, pk, VIEW_ROLES)
    p.supervisor_a.is_active = False
    with pytest.raises(Http404):
        incident_page.incident_with_roles(p.supervisor_a, incident.pk, VIEW_ROLES)


def test_the_surroundings_and_timeline_read_alone_give_the_same(personas):
    # The police PDF reads them without the page's batch: the same lines.
    incident = _hostile_incident(personas)
    read = incident_page_reads.read_page(incident)
    assert links.incident_surroundings(incident) == links.incident_surroundings(
        incident, read.sources, read.surroundings
    )
    assert svc.incident_timeline(incident) == svc.incident_timeline(
        incident, read.attachments, read.timeline
    )
    assert read.checklist == procedures.incident_checklist(incident)


# --- the parts written in one pass (templatetags/incident_page_tags.py) --------------------

OLD_TIMELINE = (
    "{% load i18n facility_log_tags %}"
    "{% for event in timeline %}\n"
    "  <li><time>{{ event.when|site_time:site }}</time> <strong>{{ event.kind }}</strong> "
    '{% blocktranslate trimmed with who=event.who|default:"—" %}by {{ who }}'
    "{% endblocktranslate %}{% if event.text %}: {{ event.text }}{% endif %}</li>\n"
    "{% endfor %}"
)
OLD_FORM = '{% include "facility_log/form_fields.html" with form=form %}'


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_timeline_is_written_as_the_template_wrote_it(personas, language):
    from django.template import Context, Template
    from django.utils import translation
    from django.utils.safestring import mark_safe

    from facility_log.services.incident_timeline import TimelineEvent
    from facility_log.templatetags.incident_page_tags import timeline_items

    when = timezone.now()
    events = [
        TimelineEvent(when, HOSTILE, HOSTILE, HOSTILE),
        TimelineEvent(when, "created", "", ""),
        TimelineEvent(when, "review: returned", "Ann Lee (ann)", mark_safe("<em>kept</em>")),
        TimelineEvent(when, "supplement", None, "100% & more"),
    ]
    events += svc.incident_timeline(_hostile_incident(personas))
    with translation.override(language):
        old = Template(OLD_TIMELINE).render(Context({"timeline": events, "site": personas.site_a}))
        new = timeline_items(events, personas.site_a)
    assert new == old
    assert ("von Ann Lee (ann)" in new) is (language == "de")  # translated, not copied


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_pages_forms_are_written_as_the_include_wrote_them(personas, language):
    from django.template import Context, Template
    from django.utils import translation

    from facility_log.forms import incidents as forms
    from facility_log.templatetags.facility_log_tags import form_fields

    incident = _hostile_incident(personas)
    with translation.override(language):
        page_forms = [
            forms.PersonForm(prefix="persons"),
            forms.VehicleForm(prefix="vehicles"),
            forms.PropertyItemForm(prefix="property"),
            forms.SupplementForm(auto_id="supplement_%s"),
            forms.AttachmentForm(
                auto_id="attach_%s", incident=incident, attachments=list(incident.attachments.all())
            ),
            forms.SupplementForm({"text": "", "reason": HOSTILE}, auto_id="supplement_%s"),
        ]
        for form in page_forms:
            old = Template(OLD_FORM).render(Context({"form": form}))
            assert form_fields(form) == old


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_surroundings_escape_as_conditional_escape_did(personas, language):
    from django.utils import translation
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext, gettext_lazy

    from facility_log.services.links import Nearby
    from facility_log.templatetags.facility_log_tags import site_time
    from facility_log.templatetags.incident_page_tags import surroundings_rows

    when = timezone.now()
    values = [HOSTILE, mark_safe("<em>kept</em>"), gettext_lazy("linked"), "", 42]
    rows = [
        Nearby(when, a, b, c, linked)
        for a in values
        for b in values[:3]
        for c in values
        for linked in (True, False)
    ]
    rows += links.incident_surroundings(_hostile_incident(personas))
    with translation.override(language):
        badge = f' <span class="badge">{conditional_escape(gettext("linked"))}</span>'
        esc = conditional_escape
        before = "".join(  # the code before: conditional_escape on every value
            f"<tr><td>{esc(site_time(n.when, personas.site_a))}</td>"
            f"<td>{esc(n.kind)}{badge if n.linked else ''}</td>"
            f"<td>{esc(n.where)}</td><td>{esc(n.detail)}</td></tr>"
            for n in rows
        )
        assert surroundings_rows(rows, personas.site_a) == before


def test_the_fixed_forms_are_kept_per_language_and_only_when_fixed(personas):
    from django import forms as django_forms
    from django.utils import translation

    from facility_log.forms import incidents as forms
    from facility_log.templatetags.facility_log_tags import form_fields
    from facility_log.views.incidents import detail

    fixed = [
        (forms.PersonForm, {"prefix": "persons"}),
        (forms.VehicleForm, {"prefix": "vehicles"}),
        (forms.PropertyItemForm, {"prefix": "property"}),
        (forms.SupplementForm, {"auto_id": "supplement_%s"}),
    ]
    for language in ("en", "de", "en", "de"):
        with translation.override(language):
            for form_class, options in fixed:
                assert detail._fixed_form(form_class, **options) == form_fields(
                    form_class(**options)
                )
            german = detail._fixed_form(forms.SupplementForm, auto_id="supplement_%s")
            assert ("Why you add it" in german) is (language == "en")
    # Not kept: a form with choices from the database, or with an initial value.
    incident = _hostile_incident(personas)
    attach = forms.AttachmentForm(incident=incident, attachments=[])
    assert not detail._is_fixed(attach)

    class Stamped(django_forms.Form):
        at = django_forms.CharField(initial=lambda: timezone.now().isoformat())

    first = detail._fixed_form(Stamped)
    assert not detail._is_fixed(Stamped()) and detail._fixed_form(Stamped) != first
