"""The incident list and the alarm console read each site's index range and merge
(facility_log/paging.py): every incident once across Older pages, newest first; deep pages
cost what the first does; the console's newest alarms across two sites; the outsider sees
nothing."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Alarm, Incident
from tests.access.helpers import door, ingest, row
from tests.incident_factories import draft


def _older(html: str) -> str | None:
    found = re.search(r'rel="next" href="\?([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.django_db
def test_incident_list_walks_every_incident_once_newest_first(personas, client_for):
    start = timezone.now() - timedelta(days=3)
    for n in range(56):
        draft(personas, occurred_from=start + timedelta(hours=n // 4))  # four share a time
    client = client_for("manager_ab")
    url = reverse("incident-list")
    seen, query, counts = [], "", []
    while query is not None:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}?{query}")
        counts.append(len(queries))
        seen += [row["id"] for row in response.context["page"].rows]
        query = _older(response.content.decode())
    expected = Incident.objects.order_by("-occurred_from", "-id").values_list("pk", flat=True)
    assert seen == list(expected)
    assert len(counts) == 2 and counts[0] == counts[1]
    outsider = client_for("outsider_c").get(url)
    assert outsider.context["page"].rows == [] and _older(outsider.content.decode()) is None


@pytest.mark.django_db
def test_console_shows_the_newest_open_alarms_of_both_sites(personas, client_for, api_client_for):
    for site, zone, hours in (
        (personas.site_a, personas.zone_a, (1, 3)),
        (personas.site_b, personas.zone_b, (2, 4)),
    ):
        door(site, zone)
        ingest(
            site,
            [
                row(
                    line=h,
                    event_type="tamper",
                    external_id=f"t{h}",
                    occurred_at=f"2026-03-28T{10 + h}:00:00Z",
                )
                for h in hours
            ],
        )
    feed = client_for("manager_ab").get(reverse("access-alarm-feed")).json()
    newest_first = Alarm.objects.order_by("-raised_at", "-id").values_list("pk", flat=True)
    assert [a["id"] for a in feed["alarms"]] == list(newest_first)
    assert {a["site"] for a in feed["alarms"]} == {"ALPHA", "BRAVO"}
    guard = client_for("guard_a").get(reverse("access-alarm-feed")).json()
    assert [a["site"] for a in guard["alarms"]] == ["ALPHA", "ALPHA"]
    assert client_for("outsider_c").get(reverse("access-alarm-feed")).json()["alarms"] == []


def _later(html: str) -> str | None:
    found = re.search(r'rel="next" href="\?([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _earlier(html: str) -> str | None:
    found = re.search(r'rel="prev" href="\?([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.django_db
def test_review_queue_pages_every_waiting_incident_once_oldest_first(personas, client_for):
    import uuid

    from facility_log.services import incidents as svc
    from tests.incident_factories import category, submitted

    waiting = []
    for n in range(56):
        if n % 3:
            waiting.append(submitted(personas, title=f"A{n}"))
        else:  # a third at site B, so that the queue merges two sites' index ranges
            incident, _ = svc.create_incident(
                personas.manager_ab,
                site=personas.site_b,
                client_uuid=uuid.uuid4(),
                narrative=f"B{n}",
                category=category(),
                zone=personas.zone_b,
                occurred_from=timezone.now(),
            )
            waiting.append(svc.submit_incident(incident, personas.manager_ab))
    draft(personas, title="Still a draft")
    client = client_for("manager_ab")
    url = reverse("incident-review-queue")
    seen, query, counts, pages = [], "", [], []
    while query is not None:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}?{query}")
        counts.append(len(queries))
        rows = [row["id"] for row in response.context["page"].rows]
        pages.append((query, rows))
        seen += rows
        query = _later(response.content.decode())
    expected = (
        Incident.objects.filter(status="submitted")
        .order_by("submitted_at", "id")
        .values_list("pk", flat=True)
    )
    assert seen == list(expected) and len(seen) == 56
    assert len(pages) == 2 and len(pages[0][1]) == 50 and counts[0] == counts[1]
    # Back from the last page to the first: the same rows, the first page full.
    back = client.get(f"{url}?{pages[1][0]}").content.decode()
    first = client.get(f"{url}?{_earlier(back)}")
    assert [row["id"] for row in first.context["page"].rows] == pages[0][1]
    # The supervisor of A reviews only A's; a guard and the outsider review nothing.
    only_a = client_for("supervisor_a").get(url).context["page"].rows
    shown = Incident.objects.filter(pk__in=[row["id"] for row in only_a])
    assert only_a and set(shown.values_list("site__code", flat=True)) == {"ALPHA"}
    for who in ("guard_a", "outsider_c"):
        html = client_for(who).get(url).content.decode()
        assert "You do not review" in html and "Nothing to review" in html
    bad = client.get(f"{url}?cursor=not-a-cursor")
    assert bad.status_code == 200 and bad.context["page"].rows[0]["id"] == expected[0]


@pytest.mark.django_db
def test_a_filter_that_cannot_match_gives_an_empty_page_over_several_sites(personas, client_for):
    from facility_log import paging

    draft(personas)
    sites = [personas.site_a.pk, personas.site_b.pk]
    for rows in (Incident.objects.none(), Incident.objects.none().values("id", "occurred_from")):
        page = paging.keyset_page(rows, "occurred_from", split_field="site_id", split_values=sites)
        assert (page.rows, page.older, page.newer) == ([], None, None)
    # An unreadable date on the list (the form refuses it): an empty list, not an error.
    response = client_for("manager_ab").get(reverse("incident-list"), {"date_from": "no"})
    assert response.status_code == 200 and response.context["page"].rows == []
