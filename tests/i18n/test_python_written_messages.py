"""The messages the incident page writes in Python (`_t("…")`, `bt("…")`, `gettext("…")`,
`_blocktranslate("…")`) are found by `makemessages` as the project runs it (its own command
adds `_t`, `_blocktranslate` and `bt` as xgettext keywords, and the messages written inside
f-strings, which xgettext does not read, are marked with gettext_noop), and each has its
German in the catalogue: `make messages` (--no-obsolete) cannot drop them."""

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from facility_log.management.commands.makemessages import Command
from tests.i18n.catalogue import po_entries

TAGS = Path(__file__).resolve().parents[2] / "facility_log" / "templatetags"
# Every module of the tags that write pages in Python (the incident page's, the run page's,
# the lists'): a message they translate is a message the catalogue must keep.
MODULES = sorted(TAGS.glob("*.py"))
_LITERALS = r"((?:(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\s*)+)"
_CALL = re.compile(r"\b(?:_t|bt|gettext|gettext_noop|_blocktranslate)\(\s*" + _LITERALS)


def _messages(source: str) -> set[str]:
    """Every message literal passed to a translating call in `source`, f-strings included."""
    return {
        "".join(
            ast.literal_eval(part)
            for part in re.findall(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", found)
        )
        for found in _CALL.findall(source)
    }


# The keywords Django's makemessages always gives xgettext for Python (its own code).
_DJANGO_KEYWORDS = [
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
]


def _extracted(path: Path, out: Path) -> set[str]:
    """What xgettext finds in `path` with the options `makemessages` gives it."""
    subprocess.run(
        [
            "xgettext",
            "-d",
            "django",
            "--language=Python",
            *_DJANGO_KEYWORDS,
            *Command.xgettext_options,
            "--from-code=UTF-8",
            "--output",
            out,
            path,
        ],
        check=True,
    )
    pot = out.read_text() if out.exists() else ""
    return {
        "".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', found))
        for found in re.findall(r'^msgid ((?:".*"\n)+)', pot, re.M)
    }


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.stem)
def test_makemessages_finds_every_message_the_page_writes(module, tmp_path):
    written = _messages(module.read_text())
    missing = written - _extracted(module, tmp_path / "messages.pot")
    assert not missing, f"mark these with gettext_noop in _MARKED: {sorted(missing)}"


def test_the_messages_written_in_python_are_read_from_the_modules():
    # The reading itself works: the pages' own messages are found where they are written.
    found = {path.stem: _messages(path.read_text()) for path in MODULES}
    assert "Persons involved" in found["incident_page_lists"]
    assert "Edit draft" in found["incident_page_body"]
    assert "scanned" in found["run_page_tags"]
    assert "Tick alarm #%(pk)s" in found["alarm_console_tags"]


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.stem)
def test_every_message_the_page_writes_has_its_german(module):
    catalogue = po_entries()
    for message in _messages(module.read_text()):
        assert message in catalogue and all(catalogue[message]), message
