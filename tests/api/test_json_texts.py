"""The runs list's plans read as text, decoded once per distinct text and written from the
bytes they keep (facility_log/api/json_texts.py): the same bytes as DRF's JSONRenderer writes
for the plain values, whatever the plan holds (text outside ASCII, the line separators JSON
escapes for JavaScript, quotes, numbers of every kind), compiled or through the ORM, indented
or not; and each text is decoded once."""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from facility_log.api import json_texts
from facility_log.api.json_texts import JsonDict, JsonList, SplicedJSONRenderer, decoded
from facility_log.api.rounds import runs
from facility_log.services.rounds import start_run
from tests.rounds_helpers import site_a_rounds
from tests.shifts_helpers import ago

AWKWARD = [
    {"checkpoint": 1, "minutes": 0, "note": "Tür “B” – Zweig\u2028zwei\u2029drei"},
    {"checkpoint": 2, "minutes": 7.5, "big": 10**30, "tiny": 1e-7, "neg": -0.0},
    {"nested": {"a": [True, False, None, '\\ " / \t \u0001']}, "emoji": "🔑"},
]


def _page(*plans) -> dict:
    results = [{"id": n, "plan": plan, "after": "\u2028x"} for n, plan in enumerate(plans)]
    return {"count": len(results), "next": None, "previous": None, "results": results}


def _texts(plans) -> list:
    return [decoded(json.dumps(plan)) for plan in plans]


@pytest.mark.parametrize("accepted", [None, "application/json", "application/json; indent=4"])
def test_the_spliced_page_is_the_renderers_bytes(accepted):
    plans = [AWKWARD, AWKWARD[0], [], {}, AWKWARD, "a string", 7, None]
    expected = JSONRenderer().render(_page(*plans), accepted, {})
    spliced = SplicedJSONRenderer().render(_page(*_texts(plans)), accepted, {})
    assert spliced == expected
    assert isinstance(_texts(plans)[0], JsonList) and isinstance(_texts(plans)[3], JsonDict)


def test_the_spliced_page_follows_the_renderers_settings(monkeypatch):
    for setting, value in (("ensure_ascii", True), ("compact", False)):
        with monkeypatch.context() as m:
            m.setattr(JSONRenderer, setting, value)
            expected = JSONRenderer().render(_page(AWKWARD, AWKWARD), None, {})
            spliced = SplicedJSONRenderer().render(_page(*_texts([AWKWARD] * 2)), None, {})
            assert spliced == expected, setting
            assert (b"\\u00fc" in spliced) == (setting == "ensure_ascii")


def test_a_text_is_decoded_once_and_as_the_json_field_decodes_it():
    text = json.dumps([{"checkpoint": 9, "minutes": 3, "once": "only"}])
    first = decoded(text)
    assert decoded(str(text)) is first and first == json.loads(text)
    assert decoded(None) is None
    assert decoded("not json") == "not json"  # as JSONField.from_db_value leaves it
    assert decoded("5") == 5


@pytest.mark.django_db
def test_the_runs_list_sends_the_plans_as_the_orm_read_sends_them(
    personas, api_client_for, monkeypatch
):
    rounds = site_a_rounds(personas)
    for hours, plan in ((3, AWKWARD), (4, AWKWARD), (5, [{"checkpoint": 1, "minutes": 0}])):
        run = start_run(rounds.route, personas.guard_a, started_at=ago(hours=hours))
        run.plan = plan
        run.save()
    client = api_client_for("manager_ab")
    json_texts._decoded_text.cache_clear()
    spliced = []
    encoded = json_texts._Encoded.encoded
    monkeypatch.setattr(
        json_texts._Encoded, "encoded", lambda self, r: spliced.append(self) or encoded(self, r)
    )
    compiled = client.get("/api/v1/runs/")
    results = compiled.json()["results"]
    distinct = len({json.dumps(r["plan"], sort_keys=True) for r in results})
    assert json_texts._decoded_text.cache_info().misses == distinct < len(results)
    assert [r["plan"] for r in results].count(AWKWARD) == 2
    again = client.get("/api/v1/runs/")
    assert json_texts._decoded_text.cache_info().misses == distinct  # none decoded again
    with monkeypatch.context() as m:
        m.setattr(runs.RunViewSet, "read_compiled_page", lambda self, columns: None)
        orm = client.get("/api/v1/runs/")
    assert compiled.content == again.content == orm.content
    assert len(spliced) == 2 * len(results)  # each plan written from its bytes, both times
    assert b"\\u2028" in compiled.content
    assert client.get("/api/v1/runs/", HTTP_ACCEPT="application/json; indent=2").content == (
        JSONRenderer().render(orm.json(), "application/json; indent=2", {})
    )
