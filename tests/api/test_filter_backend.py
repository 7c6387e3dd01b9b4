"""The API's filter backend builds a filter set only when the request names a filter: a
plain page costs no form, and a filtered one is filtered as before."""

import pytest

from facility_log.api import filters
from tests.rounds_helpers import site_a_rounds
from tests.shifts_helpers import site_a_shifts

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(monkeypatch) -> list:
    made = []
    original = filters.FilterSet.__init__

    def counting(self, *args, **kwargs):
        made.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(filters.FilterSet, "__init__", counting)
    return made


def test_a_page_without_filters_builds_no_filter_set(personas, api_client_for, built):
    site_a_rounds(personas)
    site_a_shifts(personas)
    client = api_client_for("manager_ab")
    for url in ("/api/v1/shifts/", "/api/v1/runs/", "/api/v1/scans/?limit=5"):
        assert client.get(url).status_code == 200
    assert built == []


def test_a_named_filter_still_filters_and_refuses_bad_values(personas, api_client_for, built):
    site_a_shifts(personas)
    client = api_client_for("manager_ab")
    everything = client.get("/api/v1/shifts/").json()["results"]
    open_ones = client.get("/api/v1/shifts/?open=true").json()["results"]
    assert built and 0 < len(open_ones) < len(everything)
    assert all(row["ended_at"] is None for row in open_ones)
    assert client.get("/api/v1/shifts/?open=maybe").status_code == 400
    assert client.get("/api/v1/shifts/?open=").status_code == 400
    assert client.get("/api/v1/access-events/?cardholder=Ana").status_code == 422
