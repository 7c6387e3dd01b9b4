"""The PDF renderer opens nothing but the app's static files and the record's attachments
(issue 15): a site name that broke out of its CSS string with a form feed drew a local file
into the activity report and made WeasyPrint request a local URL."""

import os
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from facility_log.services import activity_report, sites
from facility_log.services.pdf_render import FetchRefused, attachment_url, url_fetcher
from facility_log.templatetags.facility_log_tags import css_string
from tests.incident_factories import draft, photo

PORT = int(os.environ.get("FL_PDF_PROBE_PORT", "8132"))
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def local_server():
    """An HTTP server on this machine that records every path it is asked for."""
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield asked
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_image(tmp_path):
    """A PNG of noise (it cannot be compressed away): drawn into a PDF, it makes it ~50 KB
    larger."""
    rng = random.Random(15)
    image = Image.frombytes("RGB", (160, 160), bytes(rng.randrange(256) for _ in range(160 * 480)))
    path = tmp_path / "local-secret.png"
    image.save(path)
    return path


def _day_report_pdf(site) -> bytes:
    report = activity_report.site_day_report(site, timezone.localdate())
    return activity_report.render_report_pdf(report)


@pytest.mark.django_db
def test_a_site_name_breaking_out_of_css_fetches_no_local_file_or_url(
    personas, local_server, local_image
):
    site = personas.site_a
    plain = _day_report_pdf(site)
    payload = (
        f"Alpha\f}}}} html{{background:url(http://127.0.0.1:{PORT}/leak.png)}} "
        f'body{{background:url(file://{local_image})}} @page{{@top-left{{content:"'
    )
    sites.update_site(site, personas.manager_ab, name=payload, reason="test: hostile name")
    site.refresh_from_db()
    attacked = _day_report_pdf(site)
    assert attacked.startswith(b"%PDF")
    assert local_server == [], "WeasyPrint requested a local URL"
    grown = len(attacked) - len(plain)
    assert grown < 20_000, f"the PDF grew by {grown} bytes: the local image was drawn into it"


@pytest.mark.parametrize(
    "text", ["a\fb", "a\rb", "a\nb", 'a"b', "a'b", "a\\b", "a\x00b", "a</style>b", "a}b;c{"]
)
def test_css_string_leaves_nothing_that_means_anything_in_css(text):
    escaped = str(css_string(text))
    for char in "\f\r\n\"'\\<>{};\x00":
        if char == "\\":
            # Only as the start of a six-digit hex escape.
            assert all(part[:6].isalnum() and len(part) >= 6 for part in escaped.split("\\")[1:])
        else:
            assert char not in escaped, (text, escaped)


def test_css_string_keeps_letters_digits_and_spaces_readable():
    assert str(css_string("Zürich Nord 2")) == "Zürich Nord 2"
    assert str(css_string("A-1")) == "A\\00002d1"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        f"http://127.0.0.1:{PORT}/x.png",
        "https://example.com/x.png",
        "ftp://127.0.0.1/x",
        "data:text/css,body{background:url(file:///etc/passwd)}",
        "data:text/html,<b>x</b>",
        "https://facility-log.invalid/static/../../config/settings.py",
        "https://facility-log.invalid/static/..%2F..%2Fconfig%2Fsettings.py",
        "https://facility-log.invalid/media/incidents/x.jpg",
        "https://facility-log.invalid.evil.example/static/facility_log/favicon.svg",
    ],
)
def test_the_fetcher_refuses_anything_but_the_apps_own_files(url, local_server):
    with pytest.raises(FetchRefused):
        url_fetcher()(url)
    assert local_server == []


def test_the_fetcher_serves_static_files_and_image_data():
    static = url_fetcher()("https://facility-log.invalid/static/facility_log/favicon.svg")
    expected = (ROOT / "facility_log/static/facility_log/favicon.svg").read_bytes()
    assert static.read() == expected and static.content_type == "image/svg+xml"
    inline = url_fetcher()("data:image/png;base64,iVBORw0KGgo=")
    assert inline.read() == b"\x89PNG\r\n\x1a\n"


@pytest.mark.django_db
def test_the_fetcher_serves_the_records_own_attachments_only(personas):
    from facility_log.services import incidents as svc

    mine = svc.add_attachment(draft(personas), personas.guard_a, upload=photo())
    other = svc.add_attachment(draft(personas), personas.guard_a, upload=photo("b.png"))
    fetched = url_fetcher([mine])(attachment_url(mine))
    assert fetched.content_type == "image/png"
    assert fetched.read() == mine.file.open("rb").read()
    with pytest.raises(FetchRefused):
        url_fetcher([mine])(attachment_url(other))


def test_every_weasyprint_call_goes_through_the_one_renderer():
    """Only services/pdf_render.py imports WeasyPrint's document classes (bench/ aside)."""
    offenders = []
    for path in (ROOT / "facility_log").rglob("*.py"):
        text = path.read_text()
        if path.name != "pdf_render.py" and ("from weasyprint" in text or "weasyprint." in text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
