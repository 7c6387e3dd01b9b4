"""Key control: a site's keys and key sets, issuing them and taking them back.

Supervisors and managers of the site keep the key box: they add keys and sets, issue them
to a member of the site's staff or to a contractor (name and company typed for that issue
only), and receive them back. Each step is one transaction with a history row naming the
actor and the reason; the history of `KeyIssue` is the key's ledgered movement log.

A key or set is never out twice: issuing locks the key (or set) row and every key of a set,
checks that none is out, and the database's partial unique constraints are the last guard.
An issue not back by its expected time is overdue: `overdue_issues` lists them and
`notify_overdue_keys` tells the site's supervisors and managers once per issue.
"""

from collections import defaultdict
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from facility_log.models import Key, KeyIssue, KeySet, Membership, Site
from facility_log.scoping import REPORT_ROLES, REVIEW_ROLES, require_role
from facility_log.services import notifications
from facility_log.services.audit import audited_change

# Who may hold a key as staff: people who work at the site (guards, supervisors, managers).
HOLDER_ROLES = REPORT_ROLES
# Error codes of a step the key's state does not allow (the API answers 409 for them).
ALREADY_OUT = "already_out"
RETURNED = "already_returned"


def _clean_text(value: str) -> str:
    return " ".join((value or "").split())


def _require_new_label(model, site: Site, label: str) -> str:
    label = _clean_text(label)
    if not label:
        raise ValidationError({"label": _("A label is required.")})
    if model.objects.filter(site=site, label__iexact=label).exists():
        raise ValidationError(
            {"label": _("%(label)s already exists at this site.") % {"label": label}}
        )
    return label


def add_key_set(
    site: Site, actor: AbstractBaseUser, *, label: str, opens: str = "", reason: str
) -> KeySet:
    """Add a key set (a ring issued as one) to `site`."""
    require_role(actor, site, REVIEW_ROLES)
    with audited_change(actor, reason):
        label = _require_new_label(KeySet, site, label)
        key_set = KeySet(site=site, label=label, opens=_clean_text(opens))
        key_set.full_clean()
        key_set.save()
    return key_set


def add_key(
    site: Site,
    actor: AbstractBaseUser,
    *,
    label: str,
    opens: str,
    key_set: KeySet | None = None,
    reason: str,
) -> Key:
    """Add a key to `site`, on its own or in one of the site's sets."""
    require_role(actor, site, REVIEW_ROLES)
    if key_set is not None and key_set.site_id != site.pk:
        raise ValidationError({"key_set": _("Not a key set of %(site)s.") % {"site": site.code}})
    if not _clean_text(opens):
        raise ValidationError({"opens": _("Say what the key opens.")})
    with audited_change(actor, reason):
        label = _require_new_label(Key, site, label)
        key = Key(site=site, label=label, opens=_clean_text(opens), key_set=key_set)
        key.full_clean()
        key.save()
    return key


def _holder_checked(site: Site, holder, contractor_name: str, contractor_company: str):
    name = _clean_text(contractor_name)
    if holder is None and not name:
        raise ValidationError(
            {"holder": _("Choose a staff member, or type the contractor's name.")}
        )
    if holder is not None and name:
        raise ValidationError(
            {"contractor_name": _("Either a staff member or a contractor, not both.")}
        )
    if (
        holder is not None
        and not Membership.objects.filter(
            site=site, user=holder, role__in=HOLDER_ROLES, is_active=True, user__is_active=True
        ).exists()
    ):
        raise ValidationError({"holder": _("Not a member of this site's staff.")})
    if holder is None and not _clean_text(contractor_company):
        raise ValidationError({"contractor_company": _("Type the contractor's company.")})
    return name


def _lock_and_check_free(site: Site, key: Key | None, key_set: KeySet | None) -> None:
    """Lock the rows of what is being issued (so two issues of it queue up) and refuse it
    when it, its set or one of its keys is out."""
    if key is not None:
        locked = Key.objects.select_for_update().get(pk=key.pk)
        if locked.key_set_id is not None:
            raise ValidationError(
                {
                    "key": _("Key %(key)s belongs to set %(set)s: issue the set.")
                    % {"key": key.label, "set": locked.key_set.label}
                }
            )
        out = KeyIssue.objects.filter(key=key, returned_at__isnull=True)
    else:
        KeySet.objects.select_for_update().get(pk=key_set.pk)
        list(Key.objects.select_for_update().filter(key_set=key_set).values_list("pk"))
        out = KeyIssue.objects.filter(
            Q(key_set=key_set) | Q(key__key_set=key_set), returned_at__isnull=True
        )
    current = out.select_related("holder").first()
    if current is not None:
        raise ValidationError(
            {
                "key" if key else "key_set": ValidationError(
                    _("%(what)s is already out, issued to %(who)s.")
                    % {"what": current.what, "who": current.holder_text},
                    code=ALREADY_OUT,
                )
            }
        )


def issue_key(
    site: Site,
    actor: AbstractBaseUser,
    *,
    key: Key | None = None,
    key_set: KeySet | None = None,
    holder: AbstractBaseUser | None = None,
    contractor_name: str = "",
    contractor_company: str = "",
    expected_return_at: datetime,
    issued_at: datetime | None = None,
    reason: str,
) -> KeyIssue:
    """Hand a key (or a set) of `site` to a staff member or a named contractor, due back at
    `expected_return_at`. Refused when it is already out."""
    require_role(actor, site, REVIEW_ROLES)
    if (key is None) == (key_set is None):
        raise ValidationError({"key": _("Choose one key or one key set.")})
    what = key or key_set
    if what.site_id != site.pk or not what.is_active:
        field = "key" if key else "key_set"
        raise ValidationError({field: _("Not a key of %(site)s.") % {"site": site.code}})
    name = _holder_checked(site, holder, contractor_name, contractor_company)
    issued_at = issued_at or timezone.now()
    if expected_return_at <= issued_at:
        raise ValidationError(
            {"expected_return_at": _("The expected return must be after the issue time.")}
        )
    try:
        with audited_change(actor, reason):
            _lock_and_check_free(site, key, key_set)
            issue = KeyIssue(
                site=site,
                key=key,
                key_set=key_set,
                holder=holder,
                contractor_name=name,
                contractor_company=_clean_text(contractor_company) if name else "",
                issued_at=issued_at,
                issued_by=actor,
                expected_return_at=expected_return_at,
            )
            issue.save()
    except IntegrityError:
        # Two issues of the same key crossed where row locks do not queue (SQLite): the
        # partial unique constraint let the first one through.
        message = _("%(what)s is already out.") % {"what": what}
        raise ValidationError(
            {"key" if key else "key_set": ValidationError(message, code=ALREADY_OUT)}
        ) from None
    return issue


def return_key(issue: KeyIssue, actor: AbstractBaseUser, *, reason: str) -> KeyIssue:
    """Take an issued key (or set) back: the actor received it, now."""
    require_role(actor, issue.site, REVIEW_ROLES)
    with audited_change(actor, reason):
        issue = KeyIssue.objects.select_for_update().get(pk=issue.pk)
        if issue.returned_at is not None:
            raise ValidationError(
                {"state": ValidationError(_("This key was already returned."), code=RETURNED)}
            )
        issue.returned_at = timezone.now()
        issue.received_by = actor
        issue.save(update_fields=["returned_at", "received_by"])
    return issue


# --- lists ----------------------------------------------------------------------------------


def open_issues(site_ids: list[int]) -> QuerySet[KeyIssue]:
    """Issues not returned yet at the sites of `site_ids` (from `scoping.site_id_list`)."""
    return (
        KeyIssue.objects.filter(site_id__in=site_ids, returned_at__isnull=True)
        .select_related("site", "key", "key_set", "holder", "issued_by")
        .order_by("expected_return_at", "pk")
    )


def overdue_issues(site_ids: list[int], now: datetime | None = None) -> QuerySet[KeyIssue]:
    """Open issues past their expected return, the longest overdue first."""
    return open_issues(site_ids).filter(expected_return_at__lt=now or timezone.now())


def keys_with_state(site: Site) -> tuple[list[Key], list[KeySet]]:
    """The site's active keys and sets, each with `current` (its open issue, or None; a key
    of a set carries the set's). Three queries whatever the number of keys."""
    sets = list(KeySet.objects.filter(site=site, is_active=True).order_by("label"))
    keys = list(Key.objects.filter(site=site, is_active=True).order_by("label"))
    out = {}
    for issue in open_issues([site.pk]).filter(site=site):
        out[("key", issue.key_id) if issue.key_id else ("set", issue.key_set_id)] = issue
    by_set = defaultdict(list)
    for key in keys:
        by_set[key.key_set_id].append(key)
        key.current = out.get(("set", key.key_set_id) if key.key_set_id else ("key", key.pk))
    for key_set in sets:
        key_set.current = out.get(("set", key_set.pk))
        key_set.member_keys = by_set.get(key_set.pk, [])
    return keys, sets


def staff_for_keys(site: Site) -> QuerySet:
    """The people a key can be issued to as staff: active members of the site."""
    from django.contrib.auth import get_user_model

    members = Membership.objects.filter(
        site=site, role__in=HOLDER_ROLES, is_active=True, user__is_active=True
    ).values("user_id")
    return get_user_model().objects.filter(pk__in=members).order_by("last_name", "first_name")


# --- the periodic check ---------------------------------------------------------------------


def notify_overdue_keys(actor: AbstractBaseUser, now: datetime | None = None) -> list[KeyIssue]:
    """Tell each site's supervisors and managers about its keys that are overdue and were not
    told about yet (one notice per person per site and run), and mark those issues told, so
    the next run tells nobody again. Returns the issues noticed in this run."""
    now = now or timezone.now()
    due = KeyIssue.objects.filter(
        returned_at__isnull=True, expected_return_at__lt=now, overdue_notified_at__isnull=True
    ).values_list("site_id", flat=True)
    noticed = []
    for site in Site.objects.filter(pk__in=set(due)).order_by("code"):
        noticed += _notify_site(site, actor, now)
    return noticed


def _notify_site(site: Site, actor: AbstractBaseUser, now: datetime) -> list[KeyIssue]:
    with audited_change(actor, "overdue keys noticed"):
        # Locked and read again: a concurrent run that got here first has marked them.
        issues = list(
            KeyIssue.objects.select_for_update()
            .filter(
                site=site,
                returned_at__isnull=True,
                expected_return_at__lt=now,
                overdue_notified_at__isnull=True,
            )
            .order_by("expected_return_at", "pk")
        )
        if not issues:
            return []
        for issue in issues:
            issue.overdue_notified_at = now
            issue.save(update_fields=["overdue_notified_at"])
        issues = list(
            KeyIssue.objects.filter(pk__in=[i.pk for i in issues])
            .select_related("key", "key_set", "holder")
            .order_by("expected_return_at", "pk")
        )
        notifications.keys_overdue(site, issues)
    return issues
