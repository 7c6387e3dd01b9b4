"""Keys of site A, built through the services (tests/onsite/test_keys*.py, tests/cross_site)."""

from datetime import timedelta

from django.utils import timezone

from facility_log.services import keys


def key_at_a(p, label="K-1", opens="Plant room"):
    return keys.add_key(p.site_a, p.supervisor_a, label=label, opens=opens, reason="new key")


def issued_at_a(p, *, hours_out=4, hours_due=2, **holder):
    """A key of site A issued `hours_out` ago to the guard (or `holder=`/`contractor_*=`), due
    back `hours_due` after it went out."""
    key = key_at_a(p, label=f"K-{timezone.now().timestamp()}")
    issued_at = timezone.now() - timedelta(hours=hours_out)
    holder = holder or {"holder": p.guard_a}
    return keys.issue_key(
        p.site_a,
        p.supervisor_a,
        key=key,
        issued_at=issued_at,
        expected_return_at=issued_at + timedelta(hours=hours_due),
        reason="night shift",
        **holder,
    )


def site_a_key_issue(p):
    """Site A's key box, made once per test: a loose key out to a contractor (overdue), and a
    set with one key in it, in the box. Returns the open issue."""
    if getattr(p, "_key_issue", None) is None:
        ring = keys.add_key_set(p.site_a, p.manager_ab, label="RING-ALPHA", reason="seed")
        keys.add_key(
            p.site_a,
            p.manager_ab,
            label="KEY-ALPHA-IN-RING",
            opens="Gate",
            key_set=ring,
            reason="seed",
        )
        p._key_issue = issued_at_a(
            p, contractor_name="Alpha Contractor", contractor_company="Alpha Lifts Ltd"
        )
    return p._key_issue
