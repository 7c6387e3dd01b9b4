"""Lazily translated text (`gettext_lazy`) as text, translated once per language and kept.

Every `str()` of a lazy label runs gettext again, and gettext walks the catalogues' fallbacks:
a list page's filter form turned about twenty labels and options into text per request, the
same twenty every time (docs/performance.md). The catalogues do not change while the server
runs, so the translation of one message in one language is kept for the process; nothing kept
here depends on the reader beyond their language."""

from django.utils.translation import get_language, gettext, gettext_lazy

# Every gettext_lazy() proxy is an instance of this one class (made once by `lazy()`).
_GETTEXT_LAZY = type(gettext_lazy("x"))

_kept: dict[tuple[str | None, str], str] = {}


def lazy_message(value) -> str | None:
    """The message of a `gettext_lazy` proxy of plain text, else None."""
    if type(value) is not _GETTEXT_LAZY or value._kw:
        return None
    (message,) = value._args
    # Safe text is left alone: gettext marks its translation safe too.
    return message if type(message) is str else None


def text(value):
    """`str(value)` for a `gettext_lazy` proxy of a plain message, kept per language; any other
    value (text, safe text, other lazy objects) is returned as it is, for the caller to treat
    as before."""
    message = lazy_message(value)
    if message is None:
        return value
    key = (get_language(), message)
    translated = _kept.get(key)
    if translated is None:
        translated = _kept[key] = gettext(message)
    return translated
