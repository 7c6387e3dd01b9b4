"""The import's per-event shortcuts give what the general paths give: the generic CSV read by
position as `csv.DictReader` reads it, a good generic row checked in one step as the full
check checks it, and credentials hashed from a keyed state set up once as `pseudonymise`
hashes them."""

import csv
import io

import pytest

from facility_log.services import sites
from facility_log.services.access import _Checker
from facility_log.services.access_formats import (
    GENERIC_COLUMNS,
    FormatError,
    Incoming,
    read_generic_csv,
)
from facility_log.services.credentials import credential_key, pseudonymise, pseudonymiser
from tests.access.helpers import door, row


def _by_dict_reader(text: str) -> list[Incoming]:
    """What the reader gave before it read by position (csv.DictReader, a dict per row)."""
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [(n or "").lstrip("\ufeff").strip() for n in reader.fieldnames]
    return [
        Incoming(
            line=reader.line_num,
            epoch=True,
            **{n: "" if r.get(n) is None else str(r.get(n)).strip() for n in GENERIC_COLUMNS},
        )
        for r in reader
    ]


@pytest.mark.parametrize(
    "text",
    [
        # Columns in any order, optional ones missing, blank lines, spaces around values.
        "door,event_type,source,occurred_at,external_id\n"
        "D-1, granted ,ctl,2026-03-28T22:00:00Z,e1\n\n\nD-2,denied,ctl,1774735200,e2\n",
        # A byte-order mark, short rows (missing cells), extra cells, a quoted line break.
        "\ufeffsource,external_id,occurred_at,door,event_type,reason,credential,cardholder\n"
        'ctl,e1,2026-03-28T22:00:00Z,D-1,denied,expired,12345678,"Holder\nTwo"\n'
        "ctl,e2,2026-03-28T22:00:00Z\n"
        "ctl,e3,2026-03-28T22:00:00Z,D-1,granted,,,,in,surplus,more\n",
        # A column named twice (the last one counts), unknown columns, a padded header.
        " source ,external_id,occurred_at,door,event_type,door,note\n"
        "ctl,e1,2026-03-28T22:00:00Z,D-1,granted,D-2,x\n"
        "ctl,e2,2026-03-28T22:00:00Z,D-1,granted\n",
    ],
)
def test_generic_csv_is_read_as_dict_reader_reads_it(text):
    assert list(read_generic_csv(io.StringIO(text))) == _by_dict_reader(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "The file is empty"), ("\n", "The file is empty"), ("source,door\n", "Missing")],
)
def test_a_generic_csv_without_its_header_is_refused(text, message):
    with pytest.raises(FormatError, match=message):
        list(read_generic_csv(io.StringIO(text)))


@pytest.fixture
def checker(personas):
    site = sites.create_site(personas.admin, code="HQ", name="HQ", reason="r")
    zone = sites.create_zone(site, personas.admin, name="Doors", reason="r")
    door(site, zone, "D-1")
    return _Checker(site, "generic")


GOOD = [
    {},
    {"event_type": "denied", "reason": "expired", "credential": " 12345678 ", "direction": "in"},
    {"event_type": "granted", "reason": "expired", "cardholder": "Holder 7", "direction": "out"},
    {"event_type": "forced_open", "occurred_at": "1774735200", "credential": "1234"},
    {"occurred_at": "2026-03-29T00:00:00+02:00", "source": "s" * 64, "external_id": "e" * 128},
]
BAD = [
    {"door": "D-9"},
    {"event_type": "opened"},
    {"event_type": "denied", "reason": "because"},
    {"direction": "up"},
    {"occurred_at": "2026-03-28T22:00:00"},
    {"external_id": ""},
    {"source": "s" * 65},
    {"cardholder": "c" * 201},
]


@pytest.mark.django_db
@pytest.mark.parametrize("values", GOOD)
def test_a_good_generic_row_is_checked_in_one_step_as_the_full_check_does(checker, values):
    incoming = row(epoch=True, **values)
    quick = checker._good_generic(incoming)
    assert quick is not None
    checker._good_generic = lambda _row: None  # the full check only
    assert checker.check(incoming) == quick


@pytest.mark.django_db
@pytest.mark.parametrize("values", BAD)
def test_a_bad_generic_row_goes_to_the_full_check_which_names_it(checker, values):
    incoming = row(line=7, **values)
    assert checker._good_generic(incoming) is None
    errors = checker.check(incoming)
    assert isinstance(errors, list) and errors and all(e.line == 7 for e in errors)


@pytest.mark.parametrize("credential", ["", "   ", "1234", " 12345678 ", "ÄBC-0042-xyz"])
def test_pseudonymiser_hashes_as_pseudonymise_does(settings, credential):
    key = credential_key()
    assert pseudonymiser(key)(credential) == pseudonymise(credential, key)
    assert pseudonymiser()(credential) == pseudonymise(credential)
