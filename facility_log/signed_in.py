"""The signed-in user and the authenticator their session was verified with, read in one query.

A verified session names its user and its device (django-otp's `otp_device_id`). Django read
the user (one query) and django-otp the device (another) on every request. Here the device is
read with its user (`select_related`), and that user is handed to Django's own `get_user`
through the backend, so every check stays where it was and runs unchanged: Django's (the
session names a configured backend, the account is active, the session's password hash
matches, else the session is flushed) and django-otp's (the device belongs to that user and is
confirmed, else the session forgets it). Nothing is trusted between requests: signing out,
deactivating the account, changing the password or removing the device takes effect on the
next request, as before. A session without a device (a guard's) reads its user as before.

On PostgreSQL the user's active memberships come in the same round trip as the device, and
for a session this process has seen before, so does the session's own row: what the session
named last time (user and device) is remembered per session key as a guess of what to read
with it, and every row read on that guess is used only if the session's data, read in the
same trip, still names that user and device.
"""

from contextvars import ContextVar

from django.apps import apps
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, backends
from django.contrib.auth import middleware as auth_middleware
from django.db import router
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import middleware as otp_middleware
from django_otp.models import Device

from facility_log import scoping
from facility_log.services import read_together
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

BACKEND = "facility_log.signed_in.ModelBackend"
# Sessions signed in before this backend replaced Django's name Django's; the two authenticate
# alike, so such a session is carried over instead of being signed out.
DJANGO_BACKEND = "django.contrib.auth.backends.ModelBackend"

# The user read with the session's device, for ModelBackend.get_user during this request's
# `auth.get_user` only.
_read_with_device: ContextVar = ContextVar("facility_log_user_read_with_device", default=None)


class ModelBackend(backends.ModelBackend):
    """Django's ModelBackend; `get_user` takes the user already read with the session's
    device instead of reading it again (and applies the same is-active check to it)."""

    def get_user(self, user_id):
        user = _read_with_device.get()
        if user is None or str(user.pk) != str(user_id):
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None


def _device_with_user(session) -> tuple[Device | None, list | None]:
    """The device the session names, with its user, and on PostgreSQL the active memberships
    of the session's user read in the same round trip (nearly every page reads them next);
    (None, None) when it names no device (or none that can be read: django-otp then reads it
    itself, and refuses it as before). The memberships are kept for the request only once
    Django has accepted the session's user (`get_user`)."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id or SESSION_KEY not in session:
        return None, None
    named = _device_named(persistent_id)
    if named is None:
        return None, None
    device_class, device_id = named
    query, using = _device_query(device_class), router.db_for_read(device_class)
    if not read_together.one_trip(using):
        return query.first(device_class, using=using, id=device_id), None
    try:
        statements = {
            "device": query.statement(device_class, using=using, id=device_id),
            "memberships": scoping.memberships_statement(int(session[SESSION_KEY]), using),
        }
    except (ValueError, TypeError):
        return None, None
    fetched, _none = read_together.fetch(statements, using)
    return _device_and_memberships(statements, fetched, using)


def _device_named(persistent_id: str) -> tuple[type, int] | None:
    """The device class and id a session's `otp_device_id` names; None when it names none
    that can be read (django-otp then reads it itself, and refuses it as before)."""
    persistent_id = otp_middleware.OTPMiddleware._normalize_persistent_id(persistent_id)
    try:
        model_label, device_id = persistent_id.rsplit("/", 1)
        device_class = apps.get_model(*model_label.split("."))
        if not issubclass(device_class, Device):
            return None
        return device_class, int(device_id)
    except (ValueError, LookupError, TypeError):
        return None


def _device_and_memberships(statements: dict, fetched: dict, using: str):
    """The device (None if gone) and the memberships as (site id, role), from `fetched`."""
    compiler = statements["device"][0]
    devices = PrecompiledQuery.instances_of(compiler, fetched["device"], using)
    rows = PrecompiledQuery.rows_of(statements["memberships"][0], fetched["memberships"])
    return (devices[0] if devices else None), [(row["site_id"], row["role"]) for row in rows]


# What each session key named when this process last signed its user in: (user id, device).
# Only a guess at what to read with the session's own row in one round trip: everything read
# on it is checked against the session's data as read in that trip, and a guess that no longer
# holds (signed out, another device) is dropped and costs the round trip it meant to save.
_NAMED: dict[str, tuple[str, str]] = {}
_NAMED_LIMIT = 10_000


def _read_with_session(session) -> tuple[Device | None, list] | None:
    """On PostgreSQL, for a session this process has seen before: its row, its device with the
    user and the user's memberships in one round trip. The session's data is then loaded from
    that row (as Django's store loads it) and (device, memberships) returned only when the data
    names the guessed user and device with this backend; else None, the data loaded all the
    same, and the device is read as for any session."""
    guess = _NAMED.get(session.session_key) if _loads_in_one_trip(session) else None
    named = _device_named(guess[1]) if guess is not None else None
    if named is None:
        return None
    user_id, (device_class, device_id) = guess[0], named
    using = router.db_for_read(device_class)
    statements = {
        "session": session.read_statement(using),
        "device": _device_query(device_class).statement(device_class, using=using, id=device_id),
        "memberships": scoping.memberships_statement(int(user_id), using),
    }
    fetched, _none = read_together.fetch(statements, using)
    session.load_read(statements["session"][0], fetched["session"], using)
    if _names(session) != guess:
        _NAMED.pop(session.session_key or "", None)
        return None
    return _device_and_memberships(statements, fetched, using)


def load_session(request) -> None:
    """Load the request's session's data now (the first middleware to read it calls this), and
    on PostgreSQL, for a session seen before, read its device and memberships in the same round
    trip, for `get_user` to take."""
    request._read_with_session = _read_with_session(request.session)


def _loads_in_one_trip(session) -> bool:
    """Whether the session's data is still to be read, by the store that can read it with
    other reads, on a database that sends them in one round trip."""
    load_read = getattr(session, "load_read", None)
    return (
        load_read is not None
        and session.not_loaded_yet()
        and read_together.one_trip(router.db_for_read(session.model))
    )


def _names(session) -> tuple[str, str] | None:
    """(user id, device) of a session signed in with this backend and a device; else None."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if session.get(BACKEND_SESSION_KEY) != BACKEND or not persistent_id:
        return None
    user_id = session.get(SESSION_KEY)
    normalized = otp_middleware.OTPMiddleware._normalize_persistent_id(persistent_id)
    return (str(user_id), normalized) if user_id is not None else None


def _remember_names(session, user) -> None:
    """Remember what the session names, once Django has accepted its user."""
    names = _names(session)
    if names is not None and names[0] == str(user.pk):
        _remember(session.session_key, names)


def remember_what_it_names(session) -> None:
    """Remember what a session just saved names (signing in, passing the second step): its
    next request, in this process, reads it with the session's row. Only a guess: it is
    checked against the session's data on that request."""
    names = _names(session)
    if names is not None:
        _remember(session.session_key, names)


def _remember(session_key: str | None, names: tuple[str, str]) -> None:
    if session_key is None:
        return
    if len(_NAMED) >= _NAMED_LIMIT:
        _NAMED.clear()
    _NAMED[session_key] = names


_DEVICE_QUERIES: dict[type, PrecompiledQuery] = {}


def _device_query(device_class) -> PrecompiledQuery:
    """The read of one device of `device_class` by id with its user, compiled once per process
    and class (services/precompiled.py): it runs on every signed-in request."""
    query = _DEVICE_QUERIES.get(device_class)
    if query is None:
        query = _DEVICE_QUERIES[device_class] = PreparedQuery(
            # A slice, not first(): the id is unique, and an ORDER BY would only cost time.
            lambda model, id: model.objects.select_related("user").filter(id=id)[:1],
            # Within a 32-bit id's range: Django compiles an out-of-range integer to no query.
            {"id": Slot(-(2**31) + 31, device_class._meta.pk)},
        )
    return query


def get_user(request):
    """Django's `auth.get_user`, with the user read together with the session's device (and
    on PostgreSQL with the session's row and the user's memberships: `_read_with_session`)."""
    if hasattr(request, "_cached_user"):
        return request._cached_user
    session = request.session
    found = request.__dict__.pop("_read_with_session", None) or _read_with_session(session)
    device, memberships = found or (None, None)
    if memberships is None:
        if session.get(BACKEND_SESSION_KEY) == DJANGO_BACKEND:
            session[BACKEND_SESSION_KEY] = BACKEND
        if session.get(BACKEND_SESSION_KEY) == BACKEND:
            device, memberships = _device_with_user(session)
    token = _read_with_device.set(device.user if device is not None else None)
    try:
        user = auth.get_user(request)
    finally:
        _read_with_device.reset(token)
    # Only for the user Django accepted, and only the one the memberships were read for.
    if user.is_authenticated and str(user.pk) == str(session.get(SESSION_KEY)):
        if memberships is not None:
            scoping.remember_memberships(user, memberships)
        _remember_names(session, user)
    request._session_device = device
    request._cached_user = user
    return user


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with `request.user` from `get_user` above."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))


class OTPMiddleware(otp_middleware.OTPMiddleware):
    """django-otp's, taking the device `get_user` read with the user when it is the one the
    session names; `_finalize_device` checks it exactly as it checks one it reads itself."""

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)  # evaluates the user: reads the device with it
        if user.is_authenticated:
            persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
            device = getattr(request, "_session_device", None)
            if device is None or device.persistent_id != self._normalize_persistent_id(
                persistent_id or ""
            ):
                device = self._device_from_persistent_id(persistent_id) if persistent_id else None
            user.otp_device = self._finalize_device(request, user, device)
        return user
