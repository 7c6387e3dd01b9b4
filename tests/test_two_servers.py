"""Several app servers: two gunicorn servers behind one PostgreSQL database, one object store
(moto's S3 server) and one cache (Redis), as docs/deploy.md sets them up. What one server
stores, the other serves: an incident and its photo sent to server 1 with an API token are
read, downloaded and packed for the police through server 2, and a sign-in on one server holds
on the other (and a sign-out on one ends it on both).

PostgreSQL only: SQLite is a file on one machine, not a database two servers share."""

import io
import os
import re
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import requests

from facility_log.models import Attachment, Incident
from facility_log.services.accounts import issue_api_token
from tests.incident_factories import category, jpeg_bytes
from tests.object_storage import PORTS, free_port, make_bucket
from tests.personas import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
REDIS = ("127.0.0.1", 6379)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in {"postgres", "postgresql"},
        reason="two app servers share a PostgreSQL database (DATABASE_URL=postgres://...)",
    ),
]


def _reachable(address) -> bool:
    try:
        socket.create_connection(address, timeout=1).close()
    except OSError:
        return False
    return True


def _database_url(db: dict) -> str:
    """The test database pytest-django made, as the servers' DATABASE_URL."""
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


class Server:
    """One gunicorn process serving config.wsgi on a port of its own."""

    def __init__(self, port: int, env: dict[str, str], log: Path):
        self.base = f"http://127.0.0.1:{port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "120",
                # gunicorn's control socket is one path per user: two servers (and anyone
                # else's) would take it from each other.
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log = log

    def wait_until_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.base} exited:\n{self.log.read_text()[-3000:]}")
            try:
                page = requests.get(f"{self.base}/login/", timeout=30)
                # Ours, not whatever else holds the port (the other suite's S3 server).
                if 'name="username"' in page.text and self.process.poll() is None:
                    return
                time.sleep(0.2)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        raise AssertionError(f"{self.base} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def bucket(s3_server):
    return make_bucket(s3_server)


@pytest.fixture(scope="module")
def servers(bucket, tmp_path_factory, django_db_setup):
    """Two app servers on ports of 8170-8179 (moto has one too), same database, bucket and
    cache, for this module's tests; their logs are kept in a temporary folder."""
    from django.conf import settings

    tmp_path = tmp_path_factory.mktemp("servers")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_ALLOW"))
    }
    env.update(bucket.environment())
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test",
        DATABASE_URL=_database_url(settings.DATABASES["default"]),
        CONN_MAX_AGE="0",
        CACHE_URL=(f"redis://{REDIS[0]}:{REDIS[1]}/0" if _reachable(REDIS) else "locmem"),
        CACHE_KEY_PREFIX=f"two-servers-{uuid.uuid4().hex[:8]}",
    )
    started = []
    try:
        for number in (1, 2):
            started.append(_start(env, tmp_path / f"server{number}.log"))
        yield started
    finally:
        for server in started:
            server.stop()


def _start(env: dict[str, str], log: Path, attempts: int = 3) -> Server:
    """A server on a free port; another port when the one found free was taken meanwhile
    (the SQLite suite beside this one in CI runs servers too)."""
    for attempt in range(attempts):
        server = Server(free_port(range(PORTS.start + 1, PORTS.stop)), env, log)
        try:
            server.wait_until_up()
            return server
        except AssertionError:
            server.stop()
            if attempt == attempts - 1 or "in use" not in log.read_text():
                raise
    raise AssertionError("unreachable")


def _token(person, personas) -> dict[str, str]:
    _token_row, key = issue_api_token(person, personas.admin, reason="two-server test")
    return {"Authorization": f"Token {key}"}


def test_what_one_server_stores_the_other_serves(personas, servers, bucket):
    one, two = servers
    assert one.base != two.base
    guard = _token(personas.guard_a, personas)
    supervisor = _token(personas.supervisor_a, personas)
    manager = _token(personas.manager_ab, personas)
    outsider = _token(personas.outsider_c, personas)
    theft = category("Theft").pk

    # Server 1: a guard reports an incident with a photo, and submits it.
    created = requests.post(
        one.url("/api/v1/incidents/"),
        json={
            "site": "ALPHA",
            "client_uuid": str(uuid.uuid4()),
            "category": theft,
            "severity": "medium",
            "zone": personas.zone_a.pk,
            "occurred_from": "2026-11-26T01:30:00Z",
            "title": "Cable cut at the fence",
            "narrative": "Copper cable cut at the fence.",
        },
        headers=guard,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    incident_id = created.json()["id"]
    photo = jpeg_bytes()
    uploaded = requests.post(
        one.url(f"/api/v1/incidents/{incident_id}/attachments/"),
        files={"file": ("fence.jpg", photo, "image/jpeg")},
        data={"description": "the cut cable"},
        headers=guard,
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text
    submitted = requests.post(
        one.url(f"/api/v1/incidents/{incident_id}/submit/"), json={}, headers=guard, timeout=30
    )
    assert submitted.status_code == 200, submitted.text
    number = submitted.json()["number"]
    # The photo is in the shared bucket, not on either server's disk.
    stored = Attachment.objects.get(incident_id=incident_id)
    assert bucket.read(stored.file.name) == photo

    # Server 2: the supervisor reads the incident and downloads the photo...
    detail = requests.get(
        two.url(f"/api/v1/incidents/{incident_id}/"), headers=supervisor, timeout=30
    )
    assert detail.status_code == 200 and detail.json()["number"] == number
    download = requests.get(
        two.url(f"/api/v1/attachments/{stored.pk}/download/"), headers=supervisor, timeout=30
    )
    assert download.status_code == 200 and download.content == photo
    # ... the outsider gets nothing from either server ...
    for server in (one, two):
        refused = requests.get(
            server.url(f"/api/v1/attachments/{stored.pk}/download/"), headers=outsider, timeout=30
        )
        assert refused.status_code == 404 and photo not in refused.content
    # ... and the manager takes the police package, photo bytes unchanged.
    package = requests.post(
        two.url(f"/api/v1/incidents/{incident_id}/police-package/"),
        json={"recipient": "Berlin Police", "reason": "Case 42", "case_number": "0042"},
        headers=manager,
        timeout=60,
    )
    assert package.status_code == 200, package.text[:500]
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    assert "incident.json" in archive.namelist() and "report.pdf" in archive.namelist()
    [member] = [n for n in archive.namelist() if n.startswith("attachments/")]
    assert archive.read(member) == photo
    assert Incident.objects.get(pk=incident_id).number == number


def _sign_in(server: Server, username: str) -> dict[str, str]:
    """Sign in through the login form; returns the cookies (sent by hand: they are marked
    Secure, and these servers speak plain HTTP on loopback)."""
    page = requests.get(server.url("/login/"), timeout=30)
    csrf_cookie = page.cookies["csrftoken"]
    csrf_field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = requests.post(
        server.url("/login/"),
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_field},
        headers={"Cookie": f"csrftoken={csrf_cookie}", "Referer": server.url("/login/")},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]
    return {"csrftoken": csrf_cookie, "sessionid": response.cookies["sessionid"]}


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def test_a_sign_in_on_one_server_holds_on_the_other(personas, servers):
    one, two = servers
    from tests.incident_factories import submitted

    incident = submitted(personas)
    # A guard: no second sign-in step (supervisors take one; tests/views/test_two_factor.py).
    cookies = _sign_in(one, personas.guard_a.username)
    page = requests.get(
        two.url(f"/incidents/{incident.pk}/"),
        headers=_cookie_header(cookies),
        allow_redirects=False,
        timeout=30,
    )
    assert page.status_code == 200 and incident.number in page.text

    # Signing out on server 2 ends the session on server 1 too.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    out = requests.post(
        two.url("/logout/"),
        data={"csrfmiddlewaretoken": token},
        headers={**_cookie_header(cookies), "Referer": two.url("/")},
        allow_redirects=False,
        timeout=30,
    )
    assert out.status_code == 302
    again = requests.get(
        one.url(f"/incidents/{incident.pk}/"),
        headers=_cookie_header(cookies),
        allow_redirects=False,
        timeout=30,
    )
    assert again.status_code == 302 and "/login/" in again.headers["Location"]
