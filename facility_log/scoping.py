"""The one place that decides which sites' data a user may reach.

Every query for site data — pages, API, exports, search — goes through `scoped()` or
`get_scoped_or_404()`. A user reaches a site's records only through an active membership at
that site; superusers reach all. Someone with no role at the site is told the record does not
exist (404); someone with a role that is not enough is told no (403).
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete, post_save
from django.http import Http404

from facility_log.models import Membership, Role, Site
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery

# Who may do what, by role. Integration accounts push events; they read nothing else.
VIEW_ROLES = frozenset({Role.GUARD, Role.SUPERVISOR, Role.MANAGER, Role.AUDITOR})
REPORT_ROLES = frozenset({Role.GUARD, Role.SUPERVISOR, Role.MANAGER})
REVIEW_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER})
MANAGE_ROLES = frozenset({Role.MANAGER})
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.MANAGER})
INGEST_ROLES = frozenset({Role.INTEGRATION, Role.MANAGER})
ANY_ROLE = frozenset(Role.values)


def is_system_actor(user) -> bool:
    """The account commands act as: a superuser that cannot sign in (see services/accounts)."""
    return user.is_authenticated and user.get_username() == settings.FACILITY_LOG["SYSTEM_USERNAME"]


def _can_act(user) -> bool:
    return user.is_authenticated and (user.is_active or is_system_actor(user))


def _is_unrestricted(user) -> bool:
    return _can_act(user) and user.is_superuser


def can_act(user) -> bool:
    """Whether `user` may act at all (signed in and active, or the system actor)."""
    return _can_act(user)


def is_unrestricted(user) -> bool:
    """Whether `scoped()` leaves querysets unfiltered for `user` (an active superuser)."""
    return _is_unrestricted(user)


# During a request, the user's memberships are read once (`memberships_read_once`, entered by
# MembershipsOncePerRequestMiddleware): a page asked for them two to four times, one query each.
# Any change to a membership empties the cache, so a request that changes roles reads again.
_memberships_of: ContextVar[dict | None] = ContextVar("facility_log_memberships", default=None)


@contextmanager
def memberships_read_once():
    """Within this block each user's active memberships are read from the database once."""
    token = _memberships_of.set({})
    try:
        yield
    finally:
        _memberships_of.reset(token)


def _forget_memberships(sender, **kwargs) -> None:
    cache = _memberships_of.get()
    if cache:
        cache.clear()


post_save.connect(_forget_memberships, sender=Membership, dispatch_uid="scoping-memberships")
post_delete.connect(_forget_memberships, sender=Membership, dispatch_uid="scoping-memberships-d")


# Read on nearly every request: compiled to SQL once per process (services/precompiled.py).
_ACTIVE_MEMBERSHIPS = PreparedQuery(
    lambda key, user_id: Membership.objects.filter(user_id=user_id, is_active=True).values(
        "site_id", "role"
    ),
    # Within a 32-bit id's range: Django compiles an out-of-range integer to no query.
    {"user_id": Slot(-(2**31) + 41, Membership._meta.get_field("user"))},
)


def active_memberships(user) -> list[tuple[int, str]]:
    """(site id, role) of each active membership of `user` (read once per request)."""
    if user.pk is None:  # not signed in, or not saved: no membership
        return []
    cache = _memberships_of.get()
    if cache is not None and user.pk in cache:
        return cache[user.pk]
    read = _ACTIVE_MEMBERSHIPS.rows(None, user_id=user.pk)
    rows = [(row["site_id"], row["role"]) for row in read]
    if cache is not None:
        cache[user.pk] = rows
    return rows


def memberships_statement(user_id: int, using: str = "default"):
    """(compiler, SQL, parameters) of `active_memberships`' read for `user_id`, for a caller
    that sends it with another read in one round trip (facility_log/signed_in.py) and keeps
    the rows with `remember_memberships` (`PrecompiledQuery.rows_of` reads them)."""
    return _ACTIVE_MEMBERSHIPS.statement(None, using=using, user_id=user_id)


def remember_memberships(user, rows: list[tuple[int, str]]) -> None:
    """Keep `rows`, `user`'s active memberships as `active_memberships` reads them (read
    with another statement: the API token's, api/authentication.py), for the rest of this
    request; outside a request's block nothing is kept."""
    cache = _memberships_of.get()
    if cache is not None and user.pk is not None:
        cache[user.pk] = rows


def _already_read(user) -> bool:
    """True when this request has read `user`'s memberships: a query then narrows to them as a
    literal list; before that it carries them as a subquery, so that the first scoped query of
    a request (a scan's run, locked) costs no extra round trip."""
    cache = _memberships_of.get()
    return cache is not None and user.pk in cache


def memberships_known(user) -> bool:
    """Whether this request has read `user`'s memberships already (with the session's row,
    facility_log/signed_in.py, or by an earlier `active_memberships`): `site_id_list` then
    answers without a query."""
    return _already_read(user)


def site_ids_for(user, roles=VIEW_ROLES) -> QuerySet:
    """A subquery of the ids of the sites where `user` holds one of `roles`."""
    if not _can_act(user):
        return Site.objects.none().values("pk")
    if _is_unrestricted(user):
        return Site.objects.values("pk")
    return member_site_ids(user.pk, roles)


def member_site_ids(user_id: int, roles) -> QuerySet:
    """`site_ids_for`'s subquery for a user who may act and is not unrestricted, by the
    user's id (a statement compiled once takes the id as a parameter: services/list_sites.py)."""
    return Membership.objects.filter(user_id=user_id, is_active=True, role__in=roles).values(
        "site_id"
    )


def site_id_list(user, roles=VIEW_ROLES) -> list[int]:
    """The ids of the sites where `user` holds one of `roles` (every site for a superuser),
    read once into a list. Long ordered lists filter on this literal list rather than on the
    subquery of `site_ids_for`: the planner then walks each site's `(site, time)` index range
    instead of joining and sorting (docs/performance.md)."""
    if not _can_act(user):
        return []
    if _is_unrestricted(user):
        return sorted(Site.objects.values_list("pk", flat=True))
    return sorted({site_id for site_id, role in active_memberships(user) if role in roles})


def scoped_to_ids(queryset: QuerySet, site_ids: list[int], site_field: str = "site") -> QuerySet:
    """Narrow `queryset` to the sites of `site_ids`, a list from `site_id_list` (never one a
    caller put together itself)."""
    return queryset.filter(**{f"{site_field}__in": site_ids})


def sites_for(user, roles=VIEW_ROLES) -> QuerySet[Site]:
    """The sites where `user` holds one of `roles` (all sites for a superuser)."""
    if _is_unrestricted(user):
        return Site.objects.all()
    if _already_read(user):  # in a request that has read them: a literal list
        return Site.objects.filter(pk__in=site_id_list(user, roles))
    return Site.objects.filter(pk__in=site_ids_for(user, roles))


def scoped(queryset: QuerySet, user, roles=VIEW_ROLES, site_field: str = "site") -> QuerySet:
    """Narrow `queryset` to the records of sites where `user` holds one of `roles`.

    `site_field` is the path from the model to its Site ("site", "zone__site"); for a
    queryset of Site itself pass `site_field=""`.
    """
    if _is_unrestricted(user):
        return queryset
    lookup = f"{site_field}__in" if site_field else "pk__in"
    if _already_read(user):  # in a request that has read them: a literal list
        return queryset.filter(**{lookup: site_id_list(user, roles)})
    return queryset.filter(**{lookup: site_ids_for(user, roles)})


def roles_at(user, site: Site) -> set[str]:
    """The roles `user` holds at `site` (every role for a superuser)."""
    if not _can_act(user):
        return set()
    if _is_unrestricted(user):
        return set(ANY_ROLE)
    return {role for site_id, role in active_memberships(user) if site_id == site.pk}


def has_role(user, site: Site, roles) -> bool:
    return bool(roles_at(user, site) & set(roles))


def require_role(user, site: Site, roles) -> None:
    """Refuse (PermissionDenied) unless `user` holds one of `roles` at `site`."""
    if not has_role(user, site, roles):
        _refuse(site, roles)


def _refuse(site: Site, roles) -> None:
    wanted = ", ".join(sorted(str(r) for r in roles))
    raise PermissionDenied(f"This needs one of these roles at {site.code}: {wanted}.")


# A site by its code, as every page under /sites/<code>/ reads it: compiled once per process.
_SITE_BY_CODE = PreparedQuery(
    lambda key, code: Site.objects.filter(code=code)[:1],
    {"code": Slot("\x1fsentinel site code\x1f", Site._meta.get_field("code"))},
    strict=True,
)


def get_site_or_404(user, code: str, roles=VIEW_ROLES) -> Site:
    """`get_scoped_or_404(Site.objects.all(), user, roles, site_field="", code=code)`: 404
    unless `user` holds a role at the site of that code, 403 unless one of `roles`. The site is
    read by its code alone and the reader's roles from the memberships read once per request,
    one compiled query instead of one built and compiled on every page."""
    site = _SITE_BY_CODE.first(None, code=code) if _can_act(user) else None
    held = roles_at(user, site) if site is not None else set()
    if not held:  # no such site, or none of the reader's: the same answer
        raise Http404(f"No {Site._meta.verbose_name} found.")
    if not held & set(roles):
        _refuse(site, roles)
    return site


def site_of(obj: Model, site_field: str) -> Site:
    for part in [p for p in site_field.split("__") if p]:
        obj = getattr(obj, part)
    return obj


def get_scoped_or_404(
    queryset: QuerySet, user, roles=VIEW_ROLES, site_field: str = "site", **lookup
) -> Model:
    """Fetch one record: 404 unless the user holds any role at its site, 403 unless one of
    `roles`. Existence is never revealed to someone with no role there."""
    return get_scoped_with_roles(queryset, user, roles, site_field, **lookup)[0]


def get_scoped_with_roles(
    queryset: QuerySet, user, roles=VIEW_ROLES, site_field: str = "site", **lookup
) -> tuple[Model, set[str]]:
    """`get_scoped_or_404`, also giving the roles the user holds at the record's site (read
    once for both the check and the page's own use of them)."""
    try:
        obj = scoped(queryset, user, ANY_ROLE, site_field).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.verbose_name} found.") from None
    site = site_of(obj, site_field)
    held = roles_at(user, site)
    if not held & set(roles):
        _refuse(site, roles)
    return obj, held
