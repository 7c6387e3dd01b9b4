"""Round pages: the guard's screen, the live view, the report and CSV, checkpoints, labels."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Checkpoint, Run, Scan
from facility_log.services import rounds
from tests.rounds_helpers import WHY, night_route, walk
from tests.sql_text import each_statement

pytestmark = pytest.mark.django_db


def _start(client, site, route) -> Run:
    response = client.post(reverse("round-start", args=[site.code, route.pk]))
    run = Run.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse(
        "round-run", args=[run.pk]
    )
    return run


def test_guard_walks_a_round_by_typing_codes(personas, client_for):
    route, cps = night_route(personas)
    client = client_for("guard_a")
    run = _start(client, personas.site_a, route)

    page = client.get(reverse("round-run", args=[run.pk])).content.decode()
    assert "Next: Gate" in page and "Check Gate" in page and "0 of 3" in page
    assert cps[0].tag_code not in page and cps[0].tag_display not in page  # no free proof

    for cp in cps:
        form_uuid = str(uuid.uuid4())
        data = {"code": cp.tag_display.lower(), "note": "", "client_uuid": form_uuid}
        assert client.post(reverse("round-scan", args=[run.pk]), data).status_code == 302
        client.post(reverse("round-scan", args=[run.pk]), data)  # double tap: stored once
    assert Scan.objects.filter(run=run).count() == 3
    assert "3 of 3" in client.get(reverse("round-run", args=[run.pk])).content.decode()

    response = client.post(reverse("round-finish", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.finished_at is not None


def test_a_wrong_code_is_shown_on_the_code_field_and_nothing_stored(personas, client_for):
    route, _ = night_route(personas)
    client = client_for("guard_a")
    run = _start(client, personas.site_a, route)
    data = {"code": "NOPE-NOPE-NOPE", "client_uuid": str(uuid.uuid4())}
    response = client.post(reverse("round-scan", args=[run.pk]), data)
    assert response.status_code == 200
    assert "No checkpoint at ALPHA has this tag code." in response.content.decode()
    assert Scan.objects.count() == 0


def test_guards_cannot_open_another_guards_round_but_supervisors_can(personas, client_for):
    route, _ = night_route(personas)
    run = rounds.start_run(route, personas.supervisor_a)
    assert client_for("guard_a").get(reverse("round-run", args=[run.pk])).status_code == 403
    mine = rounds.start_run(route, personas.guard_a)
    assert client_for("supervisor_a").get(reverse("round-run", args=[mine.pk])).status_code == 200


def test_live_view_shows_runs_in_progress_and_exceptions_to_supervisors_only(personas, client_for):
    route, cps = night_route(personas)
    walk(personas, route, cps, timezone.now() - timedelta(hours=1), (0, 40, None), finish=False)
    html = client_for("supervisor_a").get(reverse("rounds-live", args=["ALPHA"])).content.decode()
    assert "Night round" in html and "2 of 3" in html and "Dock 25 min late" in html
    assert client_for("guard_a").get(reverse("rounds-live", args=["ALPHA"])).status_code == 403


def test_report_and_csv_for_supervisors_and_auditors_not_guards(personas, client_for):
    route, cps = night_route(personas)
    walk(personas, route, cps, timezone.now() - timedelta(hours=1), (0, 10, 20))
    url = reverse("rounds-report", args=["ALPHA"])
    html = client_for("auditor_a").get(url).content.decode()
    assert "3 of 3" in html and "100.0 %" in html
    assert client_for("guard_a").get(url).status_code == 403
    today = timezone.now().astimezone(personas.site_a.tzinfo).date()
    csv_url = reverse("rounds-report-csv", args=["ALPHA"])
    response = client_for("supervisor_a").get(
        csv_url, {"start": today - timedelta(days=1), "end": today}
    )
    assert response["Content-Type"].startswith("text/csv")
    lines = response.getvalue().decode("utf-8-sig").splitlines()
    assert lines[0].startswith('"site","day","route","guard"')
    assert '"guard_a",1,3,3,100.0,0' in lines[-1]
    bad = client_for("supervisor_a").get(
        csv_url, {"start": today, "end": today - timedelta(days=1)}
    )
    assert bad.status_code == 400 and b"ends before it starts" in bad.content


def test_managers_see_tag_codes_and_add_and_edit_checkpoints(personas, client_for):
    route, cps = night_route(personas)
    client = client_for("manager_ab")
    html = client.get(reverse("checkpoints", args=["ALPHA"])).content.decode()
    assert cps[0].tag_display in html
    assert client_for("supervisor_a").get(reverse("checkpoints", args=["ALPHA"])).status_code == 403
    response = client.post(
        reverse("checkpoint-add", args=["ALPHA"]),
        {"zone": personas.zone_a.pk, "name": "Boiler", "instructions": "Read gauge", "reason": WHY},
    )
    assert response.status_code == 302
    boiler = Checkpoint.objects.get(name="Boiler")
    response = client.post(
        reverse("checkpoint-edit", args=[boiler.pk]),
        {"zone": personas.zone_a.pk, "name": "Boiler room", "is_active": "on", "reason": "rename"},
    )
    assert response.status_code == 302
    boiler.refresh_from_db()
    assert boiler.name == "Boiler room"
    assert boiler.history.latest().history_change_reason == "rename"


def test_duplicate_checkpoint_name_lands_on_the_name_field(personas, client_for):
    night_route(personas)
    response = client_for("manager_ab").post(
        reverse("checkpoint-add", args=["ALPHA"]),
        {"zone": personas.zone_a.pk, "name": "Gate", "reason": WHY},
    )
    assert response.status_code == 200
    assert Checkpoint.objects.filter(name="Gate").count() == 1


def test_label_sheet_is_a_pdf_for_the_site_or_a_route(personas, client_for):
    route, _ = night_route(personas)
    client = client_for("manager_ab")
    site_pdf = client.get(reverse("checkpoint-labels", args=["ALPHA"]))
    assert site_pdf["Content-Type"] == "application/pdf"
    assert site_pdf.content.startswith(b"%PDF")
    route_pdf = client.get(reverse("checkpoint-labels", args=["ALPHA"]), {"route": route.pk})
    assert route_pdf.content.startswith(b"%PDF")
    assert (
        client_for("guard_a").get(reverse("checkpoint-labels", args=["ALPHA"])).status_code == 403
    )


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("who", "name"),
    [
        ("supervisor_a", "rounds-live"),
        ("supervisor_a", "rounds-report"),
        ("supervisor_a", "rounds-report-csv"),
        ("manager_ab", "checkpoints"),
        ("guard_a", "rounds-site"),
    ],
)
def test_round_pages_query_count_does_not_grow_with_rows(personas, client_for, who, name):
    route, cps = night_route(personas)
    client = client_for(who)
    url = reverse(name, args=["ALPHA"])
    today = timezone.now().astimezone(personas.site_a.tzinfo).date()
    params = {"start": today - timedelta(days=3), "end": today}
    start = timezone.now() - timedelta(hours=5)
    walk(personas, route, cps, start, (0, 40, None), finish=False)
    few = _queries(client, url, params)
    for n in range(1, 6):
        walk(personas, route, cps, start + timedelta(minutes=n * 30), (0, 40, None), finish=n % 2)
    assert _queries(client, url, params) == few


def test_label_qr_codes_are_full_qr_codes_that_cameras_read():
    from facility_log.models.rounds import new_tag_code
    from facility_log.views.rounds import label_qr

    qr = label_qr(new_tag_code())
    assert not qr.is_micro
    assert qr.version == 1


def test_the_run_page_reads_the_users_roles_once(personas, client_for):
    route, cps = night_route(personas)
    run = walk(personas, route, cps, timezone.now() - timedelta(hours=1), [0, 10], finish=False)
    url = reverse("round-run", args=[run.pk])
    for who in ("guard_a", "supervisor_a"):  # the run's guard, and a reviewer of the site
        client = client_for(who)
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        roles = [
            sql
            for sql in each_statement(captured)
            if sql.startswith('SELECT "facility_log_membership".')
        ]
        assert len(roles) == 1, who  # two reads before
    assert client_for("outsider_c").get(url).status_code == 404


def test_the_rounds_page_shows_its_routes_and_only_the_readers_open_runs(personas, client_for):
    """Its two reads (compiled and prepared once): each active route with its number of
    stops, and the reader's own unfinished runs at this site, newest first."""
    night, night_cps = night_route(personas)
    day, day_cps = night_route(
        personas, names=("Lobby", "Yard"), minutes=(0, 10), route_name="Day round"
    )
    hour_ago = timezone.now() - timedelta(hours=1)
    walk(personas, night, night_cps, hour_ago, [0, 10], finish=False)
    walk(personas, day, day_cps, hour_ago - timedelta(hours=3), [0, 10])  # finished
    url = reverse("rounds-site", args=["ALPHA"])
    page = client_for("guard_a").get(url).content.decode()
    assert "3 checkpoints" in page and "2 checkpoints" in page
    assert page.count("Continue Night round") == 1 and "Continue Day round" not in page
    other = client_for("supervisor_a").get(url).content.decode()
    assert "3 checkpoints" in other and "Continue" not in other  # not the supervisor's run
    assert client_for("outsider_c").get(url).status_code == 404
