"""The committed compiled catalogue (.mo) is the .po as it stands: nobody can edit the German
text and forget `compilemessages` (docs/translations.md)."""

import re
import shutil
import subprocess

import pytest

from tests.i18n.catalogue import MO, PO, mo_catalog, po_entries


def test_the_committed_mo_holds_exactly_the_translated_po_entries():
    compiled = mo_catalog()
    expected = {}
    for msgid, forms in po_entries().items():
        if all(forms):
            if len(forms) == 1:
                expected[msgid] = forms[0]
            else:
                expected.update({(msgid, n): form for n, form in enumerate(forms)})
    # Plural entries are keyed (singular, n) in the .mo; its plural msgid is not a key.
    assert compiled == expected, "run `make messages` (compilemessages) and commit the .mo"


def test_placeholders_are_the_same_in_german():
    """A German text that drops or renames a %(name)s would break the page at run time."""
    placeholders = re.compile(r"%\(\w+\)[sd]")
    for msgid, forms in po_entries().items():
        for translated in filter(None, forms):
            assert set(placeholders.findall(translated)) == set(placeholders.findall(msgid)), msgid


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_gnu_msgfmt_accepts_the_po(tmp_path):
    subprocess.run(["msgfmt", "--check-format", "-o", tmp_path / "x.mo", PO], check=True)
    assert MO.exists()


def test_no_german_text_is_its_own_sentence_repeated():
    """A merge once left plural entries with their German written out four to six times over
    ("…Ortszeit vonVon …"): a translation is never its first sentence again."""
    for msgid, forms in po_entries().items():
        for translated in filter(None, forms):
            opening = translated[:25]
            assert len(opening) < 12 or translated.count(opening) == 1, msgid
