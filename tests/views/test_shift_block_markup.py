"""A shift's block written in one pass (templatetags/shift_block_tags.py) gives the bytes
`shifts/_shift.html` and `_post_order_acks.html` gave: the templates as they were are kept in
tests/views/shift_block_before/ and rendered with the same context in place of the new ones,
on the shift report page, the site-day page (a link to each shift's report) and the PDF's
HTML; in English and German, with hostile values everywhere, an open and an ended shift,
notes received and none, entries and none, post orders acknowledged and none."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.template.backends.django import DjangoTemplates
from django.urls import reverse
from django.utils import translation

from facility_log.models import Shift
from facility_log.services import activity_report as dar
from facility_log.services import shifts as shift_services
from facility_log.views import shifts as shift_views
from tests.post_orders_helpers import start_acknowledging, write
from tests.shifts_helpers import entry, start, worked
from tests.views.test_shift_pages import _local, _shift_with_everything, _yesterday

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"Ö\" 'q' 100% {} %(x)s \u202eRTL\u202c 🚨"
BEFORE = Path(__file__).parent / "shift_block_before"
# The project's template settings, the kept templates found first.
_OLD_ENGINE = DjangoTemplates(
    {
        "NAME": "shift_block_before",
        "DIRS": [BEFORE],
        "APP_DIRS": True,
        "OPTIONS": settings.TEMPLATES[0]["OPTIONS"],
    }
)


def _old_render(request, name, context):
    return HttpResponse(_OLD_ENGINE.get_template(name).render(context, request))


def _normalised(html: str) -> str:
    """The page without what differs on every request (the masked CSRF token, the nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _both(client, url: str, monkeypatch, language: str) -> tuple[str, str]:
    new = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    with monkeypatch.context() as m:
        m.setattr(shift_views, "render", _old_render)
        old = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert new.status_code == old.status_code == 200
    return _normalised(new.content.decode()), _normalised(old.content.decode())


def _pdf_html(report, monkeypatch, *, old: bool) -> str:
    written = []
    with monkeypatch.context() as m:
        m.setattr(dar, "render_pdf", lambda html: written.append(html) or b"%PDF")
        if old:
            m.setattr(
                dar,
                "render_to_string",
                lambda name, context: _OLD_ENGINE.get_template(name).render(context),
            )
        dar.render_report_pdf(report)
    return written[0]


def _hostile_world(p):
    """Site A yesterday: a hostile ended shift with everything (notes received and left,
    entries, a round, an incident), an open one acknowledging hostile post orders, and an
    ended one with nothing (no notes, no entries, nothing received before it)."""
    shift, _route, _incident = _shift_with_everything(p)
    day = _yesterday(p.site_a)
    entry(shift, HOSTILE, at=_local(p.site_a, day, 9, 30))
    p.supervisor_a.first_name = HOSTILE
    p.supervisor_a.save()
    bare = start(p, at=_local(p.site_a, day, 0) - timedelta(days=2), guard=p.supervisor_a)
    shift_services.end_shift(bare, p.supervisor_a, ended_at=bare.started_at + timedelta(hours=1))
    worked(p, at=_local(p.site_a, day, 21), hours=1, guard=p.guard_a, notes="")
    write(p, title=HOSTILE, body="one")
    write(p, title="Dock", body="two")
    open_shift = start_acknowledging(p)
    return shift, open_shift, bare


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_block_is_written_as_the_templates_wrote_it(
    personas, client_for, monkeypatch, language
):
    shift, open_shift, bare = _hostile_world(personas)
    assert open_shift.post_order_acks.count() == 2 and open_shift.is_open
    client = client_for("manager_ab")
    pages = [reverse("shift-report", args=[pk]) for pk in (shift.pk, open_shift.pk, bare.pk)]
    day = _yesterday(personas.site_a)
    pages.append(reverse("site-activity", args=["ALPHA", f"{day:%Y-%m-%d}"]))
    for url in pages:
        new, old = _both(client, url, monkeypatch, language)
        assert new == old, url
        assert 'class="card"' in new
    html = _both(client, pages[0], monkeypatch, language)[0]
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "Schicht von" in html if language == "de" else "Shift of" in html
    acks = _both(client, pages[1], monkeypatch, language)[0]
    assert acks.count("\n  <li>") == 2 and "&lt;script&gt;" in acks
    own = f'href="/shifts/{shift.pk}/"'
    assert own not in html  # no link to the page itself; the day's page links to it
    assert own in _both(client, pages[3], monkeypatch, language)[0]
    with translation.override(language):
        for pk in (shift.pk, open_shift.pk, bare.pk):
            one = Shift.objects.select_related("site", "guard").get(pk=pk)
            report = dar.shift_report(one)
            pdf = _pdf_html(report, monkeypatch, old=False)
            assert pdf == _pdf_html(report, monkeypatch, old=True)
            assert 'href="/shifts/' not in pdf.split("<section", 1)[1].split("</section>")[0]
        report = dar.site_day_report(personas.site_a, day)
        assert _pdf_html(report, monkeypatch, old=False) == _pdf_html(report, monkeypatch, old=True)
