"""The database goes away for 20 s under 20 writers (PostgreSQL behind a TCP proxy that this
test cuts; the shared server itself is never stopped). Every failed request is a 503 JSON with
Retry-After, every incident a client sent is stored exactly once after its retries (the same
client_uuid), and the app server serves again by itself, without a restart.

Then the database stops answering (connections accepted, never served): a request still ends
inside the app, as a 503 JSON, well before gunicorn's worker timeout would kill it."""

import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.test import Client

from facility_log.models import Incident
from facility_log.services.accounts import issue_api_token
from tests.faults.tcp_proxy import TcpProxy
from tests.incident_factories import category

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="an outage of a database server: PostgreSQL (run with DATABASE_URL=postgres://...)",
)

ROOT = Path(__file__).resolve().parents[2]
APP_PORT, PROXY_PORT = 8150, 5440
BASE = f"http://127.0.0.1:{APP_PORT}"
WRITERS, OUTAGE_SECONDS, GUNICORN_TIMEOUT = 20, 20, 20


@pytest.fixture
def app_behind_proxy(transactional_db, tmp_path):
    settings = connection.settings_dict
    proxy = TcpProxy(PROXY_PORT, (settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    proxy.start()
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"postgres://{settings['USER']}@127.0.0.1:{PROXY_PORT}/{settings['NAME']}",
        DB_CONNECT_TIMEOUT="2",
        DB_RETRY_AFTER="1",
        MEDIA_ROOT=str(tmp_path / "media"),
        LOG_LEVEL="CRITICAL",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
        + ["--worker-class", "gthread", "--workers", "2", "--threads", "6"]
        + ["--bind", f"127.0.0.1:{APP_PORT}", "--timeout", str(GUNICORN_TIMEOUT)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        yield proxy
    finally:
        server.terminate()
        server.wait(timeout=30)
        proxy.stop()
        log.close()


def _wait_until_up(headers):
    for _ in range(100):
        try:
            if requests.get(f"{BASE}/api/v1/me/", headers=headers, timeout=60).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def _is_outage_answer(response) -> bool:
    return (
        response.status_code == 503
        and response.headers.get("Content-Type") == "application/json"
        and response.headers.get("Retry-After", "").isdigit()
        and "detail" in response.json()
    )


def test_twenty_writers_through_a_20_s_outage_lose_and_double_nothing(personas, app_behind_proxy):
    proxy = app_behind_proxy
    _token, key = issue_api_token(personas.guard_a, personas.admin, reason="outage test")
    headers = {"Authorization": f"Token {key}"}
    theft = category("Theft").pk
    _wait_until_up(headers)

    stop = threading.Event()
    sent, confirmed, unavailable, wrong = [], [], [], []
    last_success: dict[int, float] = {}

    def writer(number: int) -> None:
        session = requests.Session()
        while not stop.is_set():
            body = {
                "site": "ALPHA",
                "client_uuid": str(uuid.uuid4()),
                "category": theft,
                "severity": "medium",
                "zone": personas.zone_a.pk,
                "occurred_from": "2026-11-26T01:30:00Z",
                "narrative": f"Writer {number}: fence checked.",
            }
            sent.append(body["client_uuid"])
            while True:  # the tablet's outbox: the same body again until it is stored
                try:
                    response = session.post(
                        f"{BASE}/api/v1/incidents/", json=body, headers=headers, timeout=60
                    )
                except requests.RequestException as error:
                    wrong.append(repr(error))
                    time.sleep(1)
                    continue
                if response.status_code in (200, 201):
                    confirmed.append((body["client_uuid"], response.status_code))
                    last_success[number] = time.monotonic()
                    break
                if _is_outage_answer(response):
                    unavailable.append(response.elapsed.total_seconds())
                    time.sleep(int(response.headers["Retry-After"]))
                    continue
                wrong.append((response.status_code, response.text[:300]))
                break

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    proxy.cut()
    time.sleep(OUTAGE_SECONDS)
    proxy.restore()
    restored = time.monotonic()
    # Service resumes by itself: every writer gets an incident stored after the outage.
    deadline = restored + 30
    while time.monotonic() < deadline and not all(
        last_success.get(n, 0) > restored for n in range(WRITERS)
    ):
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)

    assert wrong == []
    assert unavailable, "the outage was never seen by a writer"
    assert all(last_success.get(n, 0) > restored for n in range(WRITERS))
    stored = list(Incident.objects.filter(client_uuid__in=sent).values_list("client_uuid", flat=1))
    assert sorted(str(u) for u in stored) == sorted(sent)  # each once: none lost, none doubled
    assert sorted(u for u, _code in confirmed) == sorted(sent)
    print(
        f"\noutage: {len(sent)} incidents by {WRITERS} writers, {len(unavailable)} answers 503 "
        f"(slowest {max(unavailable):.2f} s), {sum(c == 200 for _u, c in confirmed)} retries "
        "found their incident already stored"
    )

    # A database that accepts connections but never answers: the app gives up on its own
    # (DB_CONNECT_TIMEOUT=2) with the same 503, long before gunicorn's --timeout.
    proxy.hang()
    for _ in range(3):
        started = time.monotonic()
        response = requests.get(f"{BASE}/api/v1/incidents/", headers=headers, timeout=60)
        assert _is_outage_answer(response), (response.status_code, response.text[:300])
        assert time.monotonic() - started < GUNICORN_TIMEOUT / 2
    proxy.restore()
    assert requests.get(f"{BASE}/api/v1/incidents/", headers=headers, timeout=30).ok
    # Pages: a plain "try again" page, not a server error, also when the database fails
    # outside the view (reading the session).
    signed_in = Client()
    signed_in.force_login(personas.guard_a)
    cookie = {"Cookie": f"sessionid={signed_in.cookies['sessionid'].value}"}
    assert requests.get(f"{BASE}/incidents/", headers=cookie, timeout=30).status_code == 200
    proxy.cut()
    page = requests.get(f"{BASE}/incidents/", headers=cookie, timeout=30)
    proxy.restore()
    assert page.status_code == 503 and "Try again" in page.text, page.status_code
    assert page.headers["Retry-After"] == "1"
    call_command("verify_audit", stdout=open(os.devnull, "w"))  # noqa: SIM115
