"""Django's database session store, its one read compiled to SQL once per process.

Every signed-in request reads its session row (`session_key` and not expired). Django builds
and compiles that query anew on every request, which costs more Python time than the database
takes to answer it; here it is compiled once (services/precompiled.py) and run with the
request's key and the current time. Nothing else changes: the same table, the same row, the
same checks (an unknown or expired key is forgotten, as Django's store forgets it), and every
write (create, save, delete, cycling the key on sign-in) is Django's own.
"""

from datetime import UTC, datetime

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import router
from django.utils import timezone

from facility_log import signed_in
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

_SESSION = PreparedQuery(
    lambda model, session_key, now: model.objects.filter(
        session_key=session_key, expire_date__gt=now
    )[:1],
    {
        "session_key": Slot("\x1fsentinel session key\x1f", Session._meta.pk),
        # A time no session expires at (the store only asks for sessions after now).
        "now": Slot(
            datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
            Session._meta.get_field("expire_date"),
        ),
    },
)


class SessionStore(db.SessionStore):
    """Django's database store; `_get_session_from_db` runs the precompiled read, and a
    caller may send that read with others in one round trip (`read_statement`, then
    `load_read`: facility_log/signed_in.py)."""

    def save(self, must_create=False):
        """Django's save; then what the session names is remembered by this process, so that
        its next request reads it with the session (facility_log/signed_in.py)."""
        super().save(must_create=must_create)
        signed_in.remember_what_it_names(self)

    def not_loaded_yet(self) -> bool:
        """True while nothing of this request has read the session's data."""
        return self.session_key is not None and not hasattr(self, "_session_cache")

    def read_statement(self, using: str):
        """(compiler, SQL, parameters) of the read `load` runs, for `read_together.fetch`."""
        return _SESSION.statement(
            self.model, using=using, session_key=self.session_key, now=timezone.now()
        )

    def load_read(self, compiler, rows: list, using: str) -> None:
        """Take the rows `read_statement`'s SQL fetched as `load` takes its own read's: the
        session's data, or nothing (and the key forgotten) when the key is unknown or expired."""
        found = PrecompiledQuery.instances_of(compiler, rows, using)
        if not found:
            self._session_key = None
        self._session_cache = self.decode(found[0].session_data) if found else {}

    def _get_session_from_db(self):
        if self.session_key is None:
            return None
        session = _SESSION.first(
            self.model,
            using=router.db_for_read(self.model),
            session_key=self.session_key,
            now=timezone.now(),
        )
        if session is None:
            self._session_key = None
        return session
