"""Sessions read from the shared cache first, kept in the database (SESSION_ENGINE when
CACHE_URL names Redis: config/settings.py).

Django's `cached_db` engine, deleting a session from the cache *before* the database: were the
cache unreachable at a sign-out, Django's order would delete the row, fail on the cache, and
leave a copy there that would sign the browser in again once the cache came back. This way the
sign-out fails whole (the session stays in both, the person sees an error and signs out again)
or succeeds whole.
"""

from django.contrib.sessions.backends import cached_db


class SessionStore(cached_db.SessionStore):
    """cached_db's store, deleting from the cache first (see the module)."""

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache.delete(self.cache_key_prefix + session_key)
        super(cached_db.SessionStore, self).delete(session_key)

    async def adelete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        await self._cache.adelete(self.cache_key_prefix + session_key)
        await super(cached_db.SessionStore, self).adelete(session_key)
