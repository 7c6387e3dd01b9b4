"""Two exports of one incident to one folder (two officers, or one retrying) each keep their
own zip, named after their own disclosure: none overwrites the other."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections

from facility_log.models import Disclosure
from facility_log.services.incident_package import verify_incident_package
from tests.incident_factories import seed_site_a_incident


def _export(number, folder, recipient):
    out = StringIO()
    call_command(
        "export_incident",
        number,
        f"--recipient={recipient}",
        "--reason=court",
        f"--out={folder}",
        stdout=out,
    )
    return out.getvalue().strip()


@pytest.mark.django_db
def test_two_exports_of_one_incident_keep_two_files(personas, tmp_path):
    incident = seed_site_a_incident(personas)
    first = _export(incident.number, tmp_path, "City Police")
    second = _export(incident.number, tmp_path, "Insurer")
    assert first != second
    names = sorted(p.name for p in tmp_path.iterdir())
    expected = sorted(f"{incident.number}-disclosure-{d.pk}.zip" for d in Disclosure.objects.all())
    assert names == expected and len(names) == 2
    for name in names:
        assert verify_incident_package(tmp_path / name) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_exports_of_one_incident_do_not_overwrite(transactional_db, personas, tmp_path):
    incident = seed_site_a_incident(personas)
    start = threading.Barrier(3)
    printed, errors = [], []

    def export(recipient):
        try:
            start.wait(timeout=10)
            printed.append(_export(incident.number, tmp_path, recipient))
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=export, args=(f"Agency {i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(set(printed)) == 3
    assert len(list(tmp_path.iterdir())) == 3
    assert Disclosure.objects.count() == 3
