"""Incident list, API list and CSV export with many incidents, against the home page as the
baseline measured in the same run. Prints figures; asserts nothing about time.

    .venv/bin/python bench/incidents_list.py [N]        (default N=1000)
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def timed(client, url: str, repeat: int = 20) -> float:
    client.get(url)  # warm up
    started = time.perf_counter()
    for _ in range(repeat):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    return (time.perf_counter() - started) / repeat * 1000


def main(count: int) -> None:
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=False)
    from tests.incident_factories import draft, submitted
    from tests.personas import build_personas

    personas = build_personas()
    started = time.perf_counter()
    for n in range(count):
        (submitted if n % 2 else draft)(personas)
    print(
        f"created {count} incidents through the services in {time.perf_counter() - started:.1f} s"
    )
    client = Client()
    client.force_login(personas.manager_ab)
    base = timed(client, "/")
    print(f"home page (baseline)        {base:7.1f} ms")
    for label, url in [
        ("incident list page (50)", "/incidents/"),
        ("list page, text search", "/incidents/?text=gate"),
        (f"CSV export ({count})", "/incidents/export.csv"),
    ]:
        ms = timed(client, url)
        print(f"{label:27} {ms:7.1f} ms  ({ms / base:4.1f}× baseline)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
