"""Access pages: event browser with filters and CSV, doors, upload; site-scoped; constant
query counts; no page changes an event."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import AccessEvent, Alarm, ImportJob
from tests.access.helpers import SAMPLES, door, forced_open_at, ingest, row, sample_doors
from tests.sql_text import each_statement


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code == 200
    return len(queries)


def _events(site, zone, first: int, count: int, **extra) -> None:
    door(site, zone)
    ingest(
        site,
        [row(line=n, external_id=f"p-{n}", **extra) for n in range(first, first + count)],
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/access/events/",
        "/access/events/?format=csv",
        "/access/doors/",
        "/access/alarms/",
        "/access/alarms/feed/",
    ],
)
def test_list_query_count_does_not_grow_with_rows(personas, client_for, url):
    client = client_for("manager_ab")
    _events(personas.site_a, personas.zone_a, 0, 1, event_type="tamper")
    one = _queries(client, url)
    _events(personas.site_a, personas.zone_a, 1, 30, event_type="tamper")
    for n in range(3):
        door(personas.site_a, personas.zone_a, f"D-extra-{n}")
    assert _queries(client, url) == one


@pytest.mark.django_db
def test_event_browser_filters_by_door_type_time_and_cardholder(personas, client_for):
    site, zone = personas.site_a, personas.zone_a
    door(site, zone, "D-2")
    _events(site, zone, 0, 1, cardholder="Ana Ruiz")
    ingest(
        site,
        [
            row(line=5, external_id="b", door="D-2", event_type="rex"),
            row(line=6, external_id="c", occurred_at="2026-03-29T05:00:00Z", cardholder="Ben O"),
        ],
    )
    client = client_for("guard_a")

    def shown(query: str) -> list[str]:
        response = client.get(f"/access/events/?format=csv&{query}")
        body = b"".join(response.streaming_content).decode()
        return [r["external_id"] for r in csv.DictReader(io.StringIO(body))]

    assert sorted(shown("")) == ["b", "c", "p-0"]
    assert shown("door=D-2") == ["b"]
    assert shown("event_type=rex") == ["b"]
    assert shown("cardholder=ana") == ["p-0"]
    # ALPHA is Europe/Berlin: 06:00 local on 29 March (after the DST change) is 04:00 UTC.
    assert shown("site=ALPHA&start=2026-03-29T06:00") == ["c"]
    assert sorted(shown("site=ALPHA&end=2026-03-29T06:00")) == ["b", "p-0"]


@pytest.mark.django_db
def test_csv_export_never_contains_the_credential_number(personas, client_for):
    _events(personas.site_a, personas.zone_a, 0, 1, credential="987654321")
    response = client_for("manager_ab").get("/access/events/?format=csv")
    body = b"".join(response.streaming_content).decode()
    assert "987654321" not in body
    assert ',"\'21",' in body  # the hint kept as text: its leading zeros would survive


@pytest.mark.django_db
def test_outsider_sees_no_site_a_event_or_alarm_anywhere(personas, client_for, api_client_for):
    forced_open_at(personas.site_a, personas.zone_a)
    event = AccessEvent.objects.get()
    outsider = client_for("outsider_c")
    for url in ["/access/events/", "/access/doors/", "/access/alarms/", "/access/alarms/feed/"]:
        body = outsider.get(url).content.decode()
        assert "ALPHA" not in body and "D-1" not in body, url
    csv_body = b"".join(outsider.get("/access/events/?format=csv").streaming_content).decode()
    assert csv_body.count("\n") == 1  # header only
    assert outsider.get(reverse("access-alarm-page", args=[event.alarm.pk])).status_code == 404
    api = api_client_for("outsider_c")
    assert api.get(reverse("api-access-event-detail", args=[event.pk])).status_code == 404
    assert api.get(reverse("api-access-event-list")).json()["results"] == []


@pytest.mark.django_db
def test_manager_sees_site_a_event_and_alarm(personas, client_for):
    forced_open_at(personas.site_a, personas.zone_a)
    client = client_for("manager_ab")
    assert "Forced open" in client.get("/access/events/").content.decode()
    assert "Forced open" in client.get("/access/alarms/").content.decode()


@pytest.mark.django_db
def test_no_page_changes_an_event(personas, client_for):
    forced_open_at(personas.site_a, personas.zone_a)
    event = AccessEvent.objects.get()
    before = list(AccessEvent.objects.values())
    client = client_for("admin")
    for url in ["/access/events/", "/access/doors/", "/access/alarms/"]:
        assert client.post(url, {"event_type": "granted", "id": event.pk}).status_code in (200, 405)
    assert list(AccessEvent.objects.values()) == before
    names = _access_url_names()
    assert not [n for n in names if "event" in n and ("edit" in n or "change" in n)]


def _access_url_names() -> list[str]:
    from tests.cross_site import project_url_names

    return sorted(n for n in project_url_names() if "access" in n)


@pytest.mark.django_db
def test_upload_page_imports_a_sample_and_shows_the_counts(personas, client_for):
    sample_doors(personas.site_a, personas.zone_a)
    upload = SimpleUploadedFile("generic.csv", (SAMPLES / "generic.csv").read_bytes())
    client = client_for("manager_ab")
    response = client.post(
        reverse("access-import"), {"site": "ALPHA", "file_format": "generic-csv", "file": upload}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("access-import-job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "300" in page and "100 %" in page
    assert AccessEvent.objects.count() == 300
    assert not job.upload  # the raw file (credential numbers) is not kept


@pytest.mark.django_db
def test_upload_page_refuses_a_bad_file_naming_the_line(personas, client_for):
    sample_doors(personas.site_a, personas.zone_a)
    name = "bad-timestamp-row-41.csv"
    upload = SimpleUploadedFile(name, (SAMPLES / name).read_bytes())
    response = client_for("manager_ab").post(
        reverse("access-import"), {"site": "ALPHA", "file_format": "generic-csv", "file": upload}
    )
    assert response.status_code == 200
    assert "Line 41, column occurred_at" in response.content.decode()
    assert AccessEvent.objects.count() == Alarm.objects.count() == 0


@pytest.mark.django_db
def test_upload_page_is_for_managers_only(personas, client_for):
    sample_doors(personas.site_a, personas.zone_a)
    upload = SimpleUploadedFile("generic.csv", (SAMPLES / "generic.csv").read_bytes())
    response = client_for("supervisor_a").post(
        reverse("access-import"), {"site": "ALPHA", "file_format": "generic-csv", "file": upload}
    )
    assert response.status_code == 200  # ALPHA is not among the choices: a form error
    assert AccessEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, guessed",
    [
        ("generic.csv", "generic-csv"),
        ("kisi-webhooks.json", "kisi-json"),
        ("gallagher-events.json", "gallagher-json"),
    ],
)
def test_upload_page_guesses_the_format_by_default_and_says_which(
    personas, client_for, name, guessed
):
    """The form's default choice is "Guess from the file": a CSV is no longer refused as
    "Not valid JSON", and the page names the format it chose."""
    sample_doors(personas.site_a, personas.zone_a)
    client = client_for("manager_ab")
    form = client.get(reverse("access-import")).context["form"]
    assert form["file_format"].value() == "guess"
    upload = SimpleUploadedFile(name, (SAMPLES / name).read_bytes())
    response = client.post(
        reverse("access-import"),
        {"site": "ALPHA", "file_format": "guess", "file": upload},
        follow=True,
    )
    page = response.content.decode()
    assert f"Format guessed from the file: {guessed}." in page
    assert ImportJob.objects.get().file_format == guessed
    assert AccessEvent.objects.count() > 0


@pytest.mark.django_db
def test_a_guessed_format_is_named_when_the_file_is_refused(personas, client_for):
    sample_doors(personas.site_a, personas.zone_a)
    name = "bad-timestamp-row-41.csv"
    upload = SimpleUploadedFile(name, (SAMPLES / name).read_bytes())
    response = client_for("manager_ab").post(
        reverse("access-import"), {"site": "ALPHA", "file_format": "guess", "file": upload}
    )
    page = response.content.decode()
    assert "Format guessed from the file: generic-csv." in page
    assert "Line 41, column occurred_at" in page
    assert AccessEvent.objects.count() == 0


@pytest.mark.django_db
def test_the_alarm_page_reads_the_users_roles_once(personas, client_for):
    forced_open_at(personas.site_a, personas.zone_a)
    alarm = Alarm.objects.get()
    client = client_for("supervisor_a")
    client.get(f"/access/alarms/{alarm.pk}/")
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/access/alarms/{alarm.pk}/").content.decode()
    roles = [
        sql
        for sql in each_statement(captured)
        if sql.startswith('SELECT "facility_log_membership".')
    ]
    assert len(roles) == 1  # the check and "may acknowledge" (two reads before)
    assert "Open an incident from this alarm" in page  # the supervisor may still act on it
    guard = client_for("guard_a").get(f"/access/alarms/{alarm.pk}/").content.decode()
    assert "Open an incident from this alarm" not in guard
