"""Every PDF the application draws goes through `render_pdf`: WeasyPrint with one URL fetcher
that serves the application's own static files and the record's own attachments, and nothing
else.

WeasyPrint's default fetcher opens any URL a document names: a `url(file:///etc/passwd)` that
got into a stylesheet drew a local file into a PDF, and `http://127.0.0.1:...` reached services
on the server's network. The documents are ours, but they carry text others typed (a site's
name in the page header's CSS), so the renderer itself is held to what a report may show:

* `https://facility-log.invalid/static/<path>`: a file the static-files finders know (the base
  URL makes a template's `/static/...` resolve there);
* `https://facility-log.invalid/attachments/<id>`: an attachment of the record being drawn,
  given by the caller;
* `data:` URLs of the image types the application inlines itself (thumbnails, QR codes).

Anything else (file:, http:, ftp:, another host, a data: stylesheet) is refused, and WeasyPrint
draws the document without it.
"""

import mimetypes
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

APP_ORIGIN = "https://facility-log.invalid/"
ATTACHMENTS_PATH = "/attachments/"
# What the application itself inlines: JPEG thumbnails (services/thumbnails.py), SVG QR codes.
DATA_TYPES = frozenset({"image/jpeg", "image/png", "image/svg+xml"})


class FetchRefused(ValueError):
    """A URL the PDF renderer may not open."""


def _fetcher_class():
    # WeasyPrint parses its stylesheets on import: load it when a PDF is made, not at start-up.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AppUrlFetcher(URLFetcher):
        """The one fetcher of every WeasyPrint call (module docstring)."""

        def __init__(self, attachments: Iterable = ()):
            # Only data: reaches WeasyPrint's own opener (for its decoding), nothing else.
            super().__init__(allowed_protocols=("data",), allow_redirects=False)
            self.attachments = {str(a.pk): a for a in attachments}

        def fetch(self, url, headers=None):
            if url[:5].lower() == "data:":
                media_type = url[5:].split(",", 1)[0].split(";", 1)[0].strip().lower()
                if media_type not in DATA_TYPES:
                    raise FetchRefused(f"data: URL of type {media_type or '?'} refused")
                return super().fetch(url, headers)
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}/" != APP_ORIGIN:
                raise FetchRefused(f"{url[:100]} is not the application's own")
            path = unquote(parts.path)
            static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
            if path.startswith(static_prefix):
                return self._static(url, path.removeprefix(static_prefix))
            if path.startswith(ATTACHMENTS_PATH):
                return self._attachment(url, path.removeprefix(ATTACHMENTS_PATH))
            raise FetchRefused(f"{url[:100]} is neither a static file nor an attachment")

        def _static(self, url, relative):
            found = finders.find(relative) if relative and ".." not in relative else None
            if not isinstance(found, str):
                raise FetchRefused(f"{url[:100]}: no such static file")
            with open(found, "rb") as handle:
                body = handle.read()
            media_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": media_type})

        def _attachment(self, url, key):
            attachment = self.attachments.get(key)
            if attachment is None:
                raise FetchRefused(f"{url[:100]} is not an attachment of this record")
            with attachment.file.open("rb") as handle:
                body = handle.read()
            return URLFetcherResponse(url, body, {"Content-Type": attachment.content_type})

    return AppUrlFetcher


def url_fetcher(attachments: Iterable = ()):
    """A fresh fetcher allowed the static files and these attachments (module docstring)."""
    return _fetcher_class()(attachments)


def attachment_url(attachment) -> str:
    """Where a document drawn with this attachment allowed names it."""
    return f"{APP_ORIGIN.rstrip('/')}{ATTACHMENTS_PATH}{attachment.pk}"


def render_pdf(html: str, *, record_attachments: Iterable = (), **options) -> bytes:
    """`html` as a PDF through the fetcher above, allowed `record_attachments` (the drawn
    record's own); `options` go to WeasyPrint's write_pdf. Files embedded in the PDF
    (`options["attachments"]`) are built with `pdf_attachment`."""
    from weasyprint import HTML

    fetcher = url_fetcher(record_attachments)
    return HTML(string=html, base_url=APP_ORIGIN, url_fetcher=fetcher).write_pdf(**options)


def pdf_attachment(**options):
    """A file embedded in a PDF (WeasyPrint's Attachment), through a fetcher that opens
    nothing: its content is always given as a string."""
    from weasyprint import Attachment

    return Attachment(url_fetcher=url_fetcher(), **options)
