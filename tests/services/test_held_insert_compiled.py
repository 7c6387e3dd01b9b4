"""A held row's INSERT (services/ledger_held.py) is compiled once per model: every later row
gets the SQL and the parameters the ORM's own INSERT compiler gives it, its time stamp set
by `pre_save` as `save()` sets it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from facility_log.models import RecordView
from facility_log.services import ledger_held


def _view(personas, pk: int, label: str) -> RecordView:
    return RecordView(
        pk=pk,
        site=personas.site_a,
        object_type="facility_log.incident",
        object_pk=str(pk),
        object_label=label,
        viewer=personas.manager_ab,
        viewer_name="manager_ab",
        via=RecordView.Via.PAGE,
    )


@pytest.mark.django_db
def test_later_rows_are_sent_as_the_orm_compiles_them(personas, monkeypatch):
    # One clock for both compilations of a row (each sets its time stamp in `pre_save`).
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    ledger_held._TEMPLATES.clear()
    first = ledger_held.held_insert(_view(personas, 900001, "HQ-2026-0001"))
    assert (RecordView, "default") in ledger_held._TEMPLATES
    for pk, label in ((900002, "HQ-2026-0002 «é»"), (900003, "")):
        row = _view(personas, pk, label)
        held = ledger_held.held_insert(row)
        assert row.viewed_at == now  # set by pre_save, as save() sets it
        orm = ledger_held._compiled_insert(row, "default")  # the ORM's INSERT of the row
        assert (held.sql, held.params, held.names) == (orm.sql, orm.params, orm.names)
        assert held.sent == orm.sent and held.sent["object_label"] == label
        assert held.sql == first.sql and held.params != first.params


@pytest.mark.django_db
def test_a_time_stamp_is_taken_anew_for_every_row(personas):
    ledger_held.held_insert(_view(personas, 900021, "one"))
    a, b = _view(personas, 900022, "two"), _view(personas, 900023, "three")
    ledger_held.held_insert(a)
    ledger_held.held_insert(b)
    assert timedelta(0) <= b.viewed_at - a.viewed_at < timedelta(seconds=5)
