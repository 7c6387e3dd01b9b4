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

from facility_log.services.precompiled import Slot
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
    """Django's database store; `_get_session_from_db` runs the precompiled read."""

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
