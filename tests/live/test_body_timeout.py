"""A body announced longer than it is must not hold a worker: against a real gunicorn (one
sync worker, its default 30 s timeout), over a raw socket, the answer comes within seconds
and the next request is served at once.

Before facility_log/body_timeout.py the worker sat in recv() until gunicorn killed it 30 s
later (a handful of such requests took the whole server)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("FL_LIVE_PORT", "8131"))
ANSWER_WITHIN = 12  # seconds: the 2 s read timeout plus a loaded machine, well under 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.live.settings",
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Never opened by these requests (they end before a view reads the database).
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('live') / 'unused.db'}",
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    command += ["--workers", "1", "--bind", f"127.0.0.1:{PORT}", "--timeout", "30"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _send(head: str, body: bytes) -> tuple[bytes, float]:
    """Send the request, keep the connection open without sending the rest; the answer and
    how long it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", PORT), timeout=40) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic() - started


def _short_multipart(path: str, extra_headers: str = "") -> tuple[bytes, float]:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {len(body) + 1_000_000}\r\n{extra_headers}\r\n"
    )
    return _send(head, body)


def test_a_page_upload_shorter_than_its_content_length_is_answered_408_fast(server):
    # With a CSRF cookie, so the form would be read (a request without one is refused first).
    answer, took = _short_multipart("/", "Cookie: csrftoken=" + "a" * 32 + "\r\n")
    assert took < ANSWER_WITHIN, f"the worker was held {took:.0f} s"
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"stopped arriving" in answer


def test_an_api_body_shorter_than_its_content_length_is_a_json_408_and_frees_the_worker(
    server,
):
    head = (
        "POST /api/v1/runs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 5000\r\n\r\n"
    )
    answer, took = _send(head, b'{"route": 1')
    assert took < ANSWER_WITHIN, f"the worker was held {took:.0f} s"
    assert answer.startswith(b"HTTP/1.1 408") and b'{"detail"' in answer, answer[:300]
    # The one worker is free again: an ordinary request is answered at once.
    again, took_again = _send("GET /api/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"")
    assert took_again < 5 and again.startswith(b"HTTP/1.1 "), again[:100]
