"""The sites a list page offers, read by a statement compiled once per set of roles.

A list page (incidents, review queue, access events) reads the user's sites for its filter
form and its keyset's parts: `scoping.sites_for(user, roles)`, a queryset built and compiled
on every request (with the memberships as a subquery, or as a literal list of varying
length). Here the same read, the sites whose ids scoping.member_site_ids gives for the user,
is compiled once per set of roles with a sentinel for the user's id, and run with the user's:
the same sites, in the same order (by code), as instances, in one statement (the memberships
are not read apart).
"""

from django.db import router

from facility_log.models import Membership, Site
from facility_log.scoping import can_act, is_unrestricted, member_site_ids
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery


def _sites_query(roles: frozenset, user_id):
    """The sites where `user_id` holds one of `roles`, by code."""
    return Site.objects.filter(pk__in=member_site_ids(user_id, sorted(roles))).order_by("code")


# Within 32 bits and negative: no user's id (Django compiles an out-of-range integer to no
# query).
_READS = PreparedQuery(
    _sites_query,
    {"user_id": Slot(-(2**31) + 9_000, Membership._meta.get_field("user"))},
)


def sites_in_order(user, roles) -> list[Site] | None:
    """The sites where `user` holds one of `roles`, ordered by code, as
    `list(scoping.sites_for(user, roles).order_by("code"))` gives them; None where this read
    does not apply (a superuser, who sees every site; a user who may not act): the caller
    then reads them through scoping.sites_for."""
    if is_unrestricted(user) or not can_act(user):
        return None
    return _READS.all(frozenset(roles), using=router.db_for_read(Site), user_id=user.pk)


def sites_statement(user, roles, using: str):
    """(compiler, SQL, parameters) of `sites_in_order`'s read, for a caller that sends it with
    other reads in one round trip (services/read_together.py) and makes the sites of its rows
    with `PrecompiledQuery.instances_of`; None where `sites_in_order` gives None."""
    if is_unrestricted(user) or not can_act(user):
        return None
    return _READS.statement(frozenset(roles), using=using, user_id=user.pk)
