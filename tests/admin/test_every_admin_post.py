"""A superuser's POST to any admin URL of any registered model changes nothing it must not.

For every model in `admin.site._registry` and every URL its admin serves (changelist with its
bulk actions, add, change, delete, history, the history "revert" page, the password page, the
redirect) plus the admin site's own URLs, the test GETs the page, then POSTs the page's form
over the record's values with every text changed. Afterwards:

* the protected rows (tests/admin/world.py) are exactly as before, and so is the number of
  history rows of each protected record;
* every history row written has the reason that was given (none says "no reason given");
* the ledger still ends where it ended, or extends it; and at the end it verifies;
* without a reason, nothing at all is written;
* a revert POST is refused (403) or redirected, and writes nothing.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from facility_log.models import Incident, InvolvedPerson, Site
from facility_log.services.verify import verify_audit
from tests.admin.posting import CHANGED, model_admin_urls, plausible_post, site_urls
from tests.admin.world import (
    build_world,
    history_high_water,
    history_rows_since,
    ledger_state,
    snapshot,
)
from tests.two_factor_helpers import verified_login

REASON = "admin test: plausible change"


def _admin_client(p) -> Client:
    # A crash is a finding like any other: answered 500, reported, and the loop goes on.
    return verified_login(Client(raise_request_exception=False), p.admin)


def _differences(before: dict, after: dict) -> list[str]:
    rows = dict(after["rows"])
    # The ledger only grows (legitimate changes append to it); what it held stays as it was.
    rows["LedgerEntry"] = rows["LedgerEntry"][: len(before["rows"]["LedgerEntry"])]
    changed = [f"{name} rows" for name in before["rows"] if before["rows"][name] != rows[name]]
    changed += [
        f"{name} history ({before['history'][name]} → {after['history'][name]} rows)"
        for name in before["history"]
        if before["history"][name] != after["history"][name]
    ]
    return changed


def _post_everywhere(p, world, reason: str) -> tuple[list[str], int]:
    """POST to every admin URL; return the failures found and how many URLs were posted."""
    failures: list[str] = []
    targets = model_admin_urls(world.instances) + site_urls(world.instances)
    for target in targets:
        client = _admin_client(p)
        page = client.get(target.url)
        if page.status_code >= 500:
            failures.append(f"GET {target}: {page.status_code}")
        html = page.content.decode(errors="replace") if page.status_code == 200 else ""
        data = plausible_post(html, target, reason)
        before, ledger_before, marks = snapshot(), ledger_state(), history_high_water()
        with transaction.atomic():  # a request that fails must not end the test's transaction
            response = client.post(target.url, data)
        if response.status_code >= 500:
            failures.append(f"{target}: {response.status_code}")
        changed = _differences(before, snapshot())
        if changed:
            failures.append(f"{target} changed protected records: {', '.join(changed)}")
        for row in history_rows_since(marks):
            if not reason or reason not in (row.history_change_reason or ""):
                failures.append(
                    f"{target} wrote a {type(row).__name__} row with reason "
                    f"{row.history_change_reason!r}"
                )
        ledger_after = ledger_state()
        if (not reason or target.is_revert) and ledger_after != ledger_before:
            failures.append(f"{target} wrote to the ledger")
        if target.is_revert and response.status_code not in (302, 403):
            failures.append(f"{target}: revert POST answered {response.status_code}")
    return failures, len(targets)


@pytest.mark.django_db
def test_no_admin_post_changes_a_protected_record_and_every_change_has_its_reason(personas):
    world = build_world(personas)
    failures, posted = _post_everywhere(personas, world, REASON)
    assert not failures, "\n".join(failures)
    # The test has teeth: it reached every kind of URL, and the legitimate forms did save.
    assert posted > 150
    assert Site.objects.get(pk=personas.site_a.pk).name.endswith(CHANGED)
    draft = Incident.objects.get(pk=world.draft.pk)
    assert draft.narrative.endswith(CHANGED)
    person = InvolvedPerson.objects.get(incident=draft)
    assert person.name.endswith(CHANGED)
    assert InvolvedPerson.history.filter(id=person.pk).latest().history_change_reason == REASON
    guard = get_user_model().objects.get(pk=personas.guard_a.pk)
    assert guard.check_password("Fresh-passphrase-4711")
    verification = verify_audit()
    assert verification.intact, [str(problem) for problem in verification.problems]


@pytest.mark.django_db
def test_without_a_reason_no_admin_post_writes_anything(personas):
    world = build_world(personas)
    failures, _posted = _post_everywhere(personas, world, "")
    assert not failures, "\n".join(failures)
    assert Incident.objects.get(pk=world.draft.pk).narrative == world.draft.narrative
