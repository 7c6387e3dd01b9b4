"""Demo of the guard-on-site features at HQ, so a newcomer finds them filled in: a post order
the guard acknowledges at the next shift start, a duress procedure for the console, the
lone-worker rule (off), two keys (one out to a contractor), a found item and today's visitor
sheet with one visitor on site. Idempotent: each part is added only when HQ has none yet."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from facility_log.models import (
    EventType,
    FoundItem,
    Key,
    PostOrder,
    Procedure,
    Site,
    Visitor,
    Zone,
)
from facility_log.services import keys, lone_worker, lost_found, post_orders, procedures, visitors

REASON = "demo data (manage.py seed_demo)"
POST_ORDER = (
    "Gatehouse at night",
    "Lock **Gate B** at 22:00 and check it on every round.\n\n"
    "- Deliveries after 22:00 wait at the gatehouse.\n"
    "- Call the duty manager for any contractor not on the visitor sheet.",
)
DURESS_STEPS = [
    "Call the police (110) and give the site's address.",
    "Call the guard on the radio; do not go alone.",
    "Tell the duty manager.",
]


def seed_onsite(actor) -> str:
    """Add HQ's on-site demo records once; returns a line for the command's output."""
    site = Site.objects.filter(code="HQ").first()
    users = get_user_model().objects
    manager = users.filter(username="manager").first()
    guard = users.filter(username="guard").first()
    if site is None or manager is None or guard is None:
        return "on site: no HQ or demo people"
    added = [
        part
        for part, seed in (
            ("post order", _post_order),
            ("procedure", _procedure),
            ("lone-worker rule", _lone_worker_rule),
            ("keys", _keys),
            ("found item", _found_item),
            ("visitor", _visitor),
        )
        if seed(site, manager, guard)
    ]
    return "on site: " + (", ".join(added) if added else "already there")


def _post_order(site, manager, guard) -> bool:
    if PostOrder.objects.filter(site=site).exists():
        return False
    title, body = POST_ORDER
    post_orders.create_post_order(site, manager, title=title, body=body, reason=REASON)
    return True


def _procedure(site, manager, guard) -> bool:
    if Procedure.objects.filter(site=site).exists():
        return False
    procedures.save_procedure(
        site,
        manager,
        title="Duress alarm",
        steps=DURESS_STEPS,
        alarm_type=EventType.DURESS,
        reason=REASON,
    )
    return True


def _lone_worker_rule(site, manager, guard) -> bool:
    # Off by default: the demo has two people on duty, and a rule left on would raise alarms.
    if lone_worker.policy_for(site) is not None:
        return False
    lone_worker.set_lone_worker_policy(
        site, manager, enabled=False, interval_minutes=30, grace_minutes=5, reason=REASON
    )
    return True


def _keys(site, manager, guard) -> bool:
    if Key.objects.filter(site=site).exists():
        return False
    keys.add_key(site, manager, label="K-01", opens="Gatehouse", reason=REASON)
    plant = keys.add_key(site, manager, label="K-07", opens="Plant room", reason=REASON)
    keys.issue_key(
        site,
        manager,
        key=plant,
        contractor_name="Lift engineer",
        contractor_company="Acme Lifts",
        expected_return_at=timezone.now() + timedelta(hours=4),
        reason=REASON,
    )
    return True


def _found_item(site, manager, guard) -> bool:
    if FoundItem.objects.filter(site=site).exists():
        return False
    item = lost_found.FoundItemInput(
        description="Black umbrella with a wooden handle",
        found_at=timezone.now() - timedelta(hours=3),
        found_by="Cleaning staff",
        storage_location="Gatehouse cupboard, shelf 2",
        zone=Zone.objects.filter(site=site, name="Main entrance").first(),
    )
    lost_found.record_found_item(site, guard, item, reason=REASON)
    return True


def _visitor(site, manager, guard) -> bool:
    if Visitor.objects.filter(site=site, day=visitors.local_today(site)).exists():
        return False
    visitors.sign_in_visitor(
        site,
        guard,
        name="Demo Visitor",
        host="Facilities",
        company="Acme Lifts",
        badge_number="V-12",
    )
    return True
