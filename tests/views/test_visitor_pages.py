"""The visitor day sheet in pages and API: one site and one day per page or call, signing in
and out on a tablet-sized form, the evacuation list and its PDF; nobody is found by name
across days, and the outsider gets nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import Visitor
from facility_log.services import visitors
from tests.retention_helpers import ago, clock_at

pytestmark = pytest.mark.django_db


def _sign_in(p, name: str, site=None, actor=None) -> Visitor:
    return visitors.sign_in_visitor(
        site or p.site_a, actor or p.guard_a, name=name, host="Hal Host", company="Acme"
    )


def _sheet_url(p, day) -> str:
    return f"/sites/{p.site_a.code}/visitors/{day.isoformat()}/"


def test_a_guard_signs_a_visitor_in_and_out_on_todays_sheet(personas, client_for):
    client = client_for("guard_a")
    today = visitors.local_today(personas.site_a)
    response = client.get(f"/sites/{personas.site_a.code}/visitors/")
    assert response.status_code == 302 and response["Location"] == _sheet_url(personas, today)
    body = {"name": "Vera Visitor", "company": "Acme", "host": "Hal", "badge_number": "B-7"}
    response = client.post(_sheet_url(personas, today), body)
    assert response.status_code == 302
    visitor = Visitor.objects.get()
    assert (visitor.name, visitor.badge_number, visitor.signed_in_by) == (
        "Vera Visitor",
        "B-7",
        personas.guard_a,
    )
    page = client.get(_sheet_url(personas, today)).content.decode()
    assert "Vera Visitor" in page and 'data-confirm="Sign Vera Visitor out now?"' in page
    response = client.post(f"/sites/{personas.site_a.code}/visitors/{visitor.pk}/sign-out/")
    assert response.status_code == 302
    visitor.refresh_from_db()
    assert visitor.signed_out_by == personas.guard_a


def test_a_sign_in_with_no_name_says_which_field_and_writes_nothing(personas, client_for):
    today = visitors.local_today(personas.site_a)
    response = client_for("guard_a").post(_sheet_url(personas, today), {"name": " ", "host": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "host"}
    assert not Visitor.objects.exists()


def test_an_earlier_sheet_is_shown_but_takes_no_sign_in(personas, client_for):
    with clock_at(ago(2)):
        old = _sign_in(personas, "Old Olga")
    client = client_for("supervisor_a")
    page = client.get(_sheet_url(personas, old.day))
    assert "Old Olga" in page.content.decode() and page.context["form"] is None
    response = client.post(_sheet_url(personas, old.day), {"name": "Late", "host": "Hal"})
    assert response.status_code == 404 and Visitor.objects.count() == 1


def test_the_evacuation_page_shows_exactly_those_signed_in_and_not_out(personas, client_for):
    here = _sign_in(personas, "Here Hanna")
    left = _sign_in(personas, "Left Liam")
    visitors.sign_out_visitor(left, personas.guard_a)
    _sign_in(personas, "Bravo Bob", site=personas.site_b, actor=personas.manager_ab)
    response = client_for("manager_ab").get(f"/sites/{personas.site_a.code}/visitors/on-site/")
    assert list(response.context["rows"]) == [here]
    page = response.content.decode()
    assert "Here Hanna" in page and "Left Liam" not in page and "Bravo Bob" not in page
    pdf = client_for("guard_a").get(f"/sites/{personas.site_a.code}/visitors/on-site.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


# --- one site, one day: no search by name ------------------------------------------------------

SEARCHES = ("name", "search", "q", "text", "visitor", "day", "site")


def test_no_page_or_api_finds_a_visitor_by_name_across_days(personas, client_for, api_client_for):
    with clock_at(ago(3)):
        earlier = _sign_in(personas, "Zora Zimmer")
        visitors.sign_out_visitor(earlier, personas.guard_a)
        at_b = _sign_in(personas, "Zora Zimmer", site=personas.site_b, actor=personas.manager_ab)
        visitors.sign_out_visitor(at_b, personas.manager_ab)
    today = _sign_in(personas, "Other Otto")
    page, api = client_for("manager_ab"), api_client_for("manager_ab")
    code = personas.site_a.code
    for param in SEARCHES:
        query = f"?{param}=Zora"
        # Pages ignore the parameter: today's sheet and the on-site list stay what they are.
        sheet = page.get(_sheet_url(personas, today.day) + query).content.decode()
        assert "Zora" not in sheet and "Other Otto" in sheet, query
        assert "Zora" not in page.get(f"/sites/{code}/visitors/on-site/{query}").content.decode()
        # The API refuses any query parameter, naming it.
        for url in (
            f"/api/v1/sites/{code}/visitors/{today.day}/",
            f"/api/v1/sites/{code}/visitors/on-site/",
        ):
            response = api.get(url + query)
            assert response.status_code == 400 and param in response.json(), url + query
    # The one way to read the earlier visit is that site's sheet of that day, whole.
    sheet = api.get(f"/api/v1/sites/{code}/visitors/{earlier.day}/").json()
    assert sheet["day"] == earlier.day.isoformat() and sheet["site"] == code
    assert [v["name"] for v in sheet["visitors"]] == ["Zora Zimmer"]


def test_no_list_of_the_app_shows_a_visitor(personas, client_for):
    from django.urls import reverse

    from tests.cross_site import LIST_URLS

    _sign_in(personas, "Zora Zimmer")
    client = client_for("manager_ab")
    for name in sorted(LIST_URLS):
        for query in ("", "?text=Zora", "?search=Zora", "?q=Zora", "?name=Zora"):
            response = client.get(reverse(name) + query)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            # A search box shows the searched word back; the surname is never shown.
            assert b"Zimmer" not in body, reverse(name) + query


# --- API -----------------------------------------------------------------------------------------


def test_the_api_signs_in_and_out_and_refuses_a_second_sign_out(personas, api_client_for):
    api = api_client_for("supervisor_a")
    code = personas.site_a.code
    body = {"name": "Vera Visitor", "host": "Hal", "company": "Acme", "badge_number": "B-7"}
    created = api.post(f"/api/v1/sites/{code}/visitors/", body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["signed_in_by"] == "supervisor_a"
    out = api.post(f"/api/v1/sites/{code}/visitors/{pk}/sign-out/")
    assert out.status_code == 200 and out.json()["signed_out_by"] == "supervisor_a"
    again = api.post(f"/api/v1/sites/{code}/visitors/{pk}/sign-out/")
    assert again.status_code == 409 and "signed_out_at" in again.json()


def test_the_api_refuses_bad_and_unknown_fields_by_name(personas, api_client_for):
    api = api_client_for("guard_a")
    url = f"/api/v1/sites/{personas.site_a.code}/visitors/"
    response = api.post(url, {"name": "Vera", "host": "Hal", "phone": "123"}, format="json")
    assert response.status_code == 400 and "phone" in response.json()
    response = api.post(url, {"host": "Hal"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    response = api.post(url, {"name": "   ", "host": "Hal"}, format="json")
    assert response.status_code in (400, 422) and "name" in response.json()
    assert not Visitor.objects.exists()


def test_an_auditor_and_the_outsider_get_nothing(personas, client_for, api_client_for):
    visitor = _sign_in(personas, "Vera Visitor")
    code = personas.site_a.code
    for name in ("outsider_c", "auditor_a"):
        client, api = client_for(name), api_client_for(name)
        for url in (
            f"/sites/{code}/visitors/",
            _sheet_url(personas, visitor.day),
            f"/sites/{code}/visitors/on-site/",
            f"/sites/{code}/visitors/on-site.pdf",
        ):
            # The auditor knows the site (403: a role too low); for the outsider it does not exist.
            assert client.get(url).status_code == (404 if name == "outsider_c" else 403), url
        response = client.post(f"/sites/{code}/visitors/{visitor.pk}/sign-out/")
        assert response.status_code in (403, 404)
        for url in (
            f"/api/v1/sites/{code}/visitors/{visitor.day}/",
            f"/api/v1/sites/{code}/visitors/on-site/",
        ):
            assert api.get(url).status_code in (403, 404), (name, url)
        response = api.post(f"/api/v1/sites/{code}/visitors/{visitor.pk}/sign-out/")
        assert response.status_code in (403, 404)
    visitor.refresh_from_db()
    assert visitor.signed_out_at is None


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


@pytest.mark.parametrize("kind", ["page", "api", "evacuation"])
def test_lists_take_the_same_queries_for_two_and_twenty_visitors(
    kind, personas, client_for, api_client_for
):
    today = visitors.local_today(personas.site_a)
    code = personas.site_a.code
    client = client_for("guard_a") if kind != "api" else api_client_for("guard_a")
    url = {
        "page": _sheet_url(personas, today),
        "api": f"/api/v1/sites/{code}/visitors/{today}/",
        "evacuation": f"/sites/{code}/visitors/on-site/",
    }[kind]
    counts = []
    for size in (2, 20):
        while Visitor.objects.count() < size:
            visitor = _sign_in(personas, f"V{Visitor.objects.count()}")
            if Visitor.objects.count() % 2 and kind != "evacuation":
                visitors.sign_out_visitor(visitor, personas.supervisor_a)
        client.get(url)  # warm: sessions, the once-a-minute token stamp
        counts.append(_queries(lambda: client.get(url)))
    assert counts[0] == counts[1], counts


def test_a_day_that_is_not_a_date_has_no_sheet(personas, client_for, api_client_for):
    code = personas.site_a.code
    assert client_for("guard_a").get(f"/sites/{code}/visitors/yesterday/").status_code == 404
    assert (
        api_client_for("guard_a").get(f"/api/v1/sites/{code}/visitors/2026-13-01/").status_code
        == 404
    )
