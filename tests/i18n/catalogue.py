"""Reading the German catalogue in tests without packages: the .po by a small parser, the
compiled .mo through the standard library's gettext."""

import ast
import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "facility_log" / "locale"
PO = LOCALE / "de" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "de" / "LC_MESSAGES" / "django.mo"

_STRINGS = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'


def _text(quoted: str) -> str:
    return "".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', quoted))


def po_entries() -> dict[str, list[str]]:
    """msgid → its translations (one, or one per plural form), fuzzy entries left out as
    gettext leaves them out. Plural entries are keyed by their singular msgid; entries with
    a context by "context\x04msgid", as gettext keys them."""
    entries = {}
    for block in PO.read_text().split("\n\n"):
        if "#, fuzzy" in block or block.lstrip().startswith("#~"):
            continue
        msgid = re.search(r"^msgid " + _STRINGS, block, re.M)
        if msgid is None or not _text(msgid.group(1)):
            continue
        forms = re.findall(r"^msgstr(?:\[\d\])? " + _STRINGS, block, re.M)
        context = re.search(r"^msgctxt " + _STRINGS, block, re.M)
        # gettext keys an entry with a context as "context\x04msgid".
        key = _text(msgid.group(1))
        if context:
            key = _text(context.group(1)) + "\x04" + key
        entries[key] = [_text(form) for form in forms]
    return entries


def mo_catalog() -> dict:
    """The compiled catalogue as gettext reads it: msgid (or (msgid, n)) → translation."""
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    return {key: value for key, value in catalog.items() if key != ""}
