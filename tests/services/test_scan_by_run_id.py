"""A scan sent with its run's id: the run's read (compiled once per process, then run with each
scan's values) is scoped like any other, finds the right run, checkpoint and client_uuid every
time, and the scan's ledger entry (chained on PostgreSQL in one statement, its hash computed
by the database) verifies like every other."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from facility_log.models import LedgerEntry, Scan
from facility_log.services import rounds
from facility_log.services.ledger import entry_hash
from facility_log.services.rounds import ScanInput
from facility_log.services.verify import verify_audit
from tests.rounds_helpers import night_route

pytestmark = pytest.mark.django_db


def _send(actor, run, checkpoint, minutes, *, uid=None, code=None):
    data = ScanInput(
        tag_code=code if code is not None else checkpoint.tag_code,
        client_uuid=uid or uuid.uuid4(),
        device_time=run.started_at + timedelta(minutes=minutes),
        method="qr",
    )
    return rounds.record_scan(actor, data, run_id=run.pk)


def test_each_scan_finds_its_own_run_checkpoint_and_client_uuid(personas):
    route, cps = night_route(personas)
    start = timezone.now() - timedelta(hours=2)
    first = rounds.start_run(route, personas.guard_a, started_at=start)
    second = rounds.start_run(route, personas.guard_a, started_at=start + timedelta(minutes=1))
    sent = [(first, cps[0]), (second, cps[1]), (first, cps[2]), (second, cps[0])]
    for n, (run, checkpoint) in enumerate(sent):
        scan, created = _send(personas.guard_a, run, checkpoint, n)
        assert created
        stored = Scan.objects.get(pk=scan.pk)
        assert (stored.run_id, stored.checkpoint_id) == (run.pk, checkpoint.pk)
        assert scan.run.site == personas.site_a  # the site read with the run
    again, created = _send(personas.guard_a, second, cps[0], 3, uid=stored.client_uuid)
    assert not created and again.pk == stored.pk
    with pytest.raises(ValidationError) as refused:
        _send(personas.guard_a, first, cps[0], 5, code="NO-SUCH-TAG")
    assert "tag_code" in refused.value.message_dict


def test_a_run_of_a_site_without_the_actors_role_is_not_found(personas):
    route, cps = night_route(personas)
    run = rounds.start_run(route, personas.guard_a, started_at=timezone.now())
    _send(personas.guard_a, run, cps[0], 0)  # compiled for members with the guard's values
    for outsider in (personas.outsider_c, personas.auditor_a):
        with pytest.raises(ValidationError) as refused:
            _send(outsider, run, cps[1], 1)
        assert refused.value.message_dict == {"run": [rounds.scans.NOT_REACHABLE]}
    assert run.scans.count() == 1


def test_a_superuser_reaches_every_sites_run(personas):
    route, cps = night_route(personas)
    run = rounds.start_run(route, personas.admin, started_at=timezone.now())
    scan, created = _send(personas.admin, run, cps[0], 0)
    assert created and scan.run_id == run.pk


def test_each_scans_ledger_entry_names_its_guard_and_the_chain_verifies(personas):
    route, cps = night_route(personas)
    run = rounds.start_run(route, personas.guard_a, started_at=timezone.now())
    scans = [_send(personas.guard_a, run, cp, n)[0] for n, cp in enumerate(cps)]
    entries = LedgerEntry.objects.filter(
        object_type="facility_log.scan", object_pk__in=[str(s.pk) for s in scans]
    ).order_by("seq")
    assert [(e.actor_id, e.actor_name) for e in entries] == [
        (personas.guard_a.pk, personas.guard_a.get_username())
    ] * 3
    chain = list(LedgerEntry.objects.order_by("seq"))
    assert all(
        b.prev_hash == a.hash and b.seq == a.seq + 1 for a, b in zip(chain, chain[1:], strict=False)
    )
    assert all(entry_hash(e) == e.hash for e in chain)
    assert verify_audit().intact
