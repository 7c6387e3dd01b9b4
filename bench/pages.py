"""Every list page, API list and detail page at a large facility's volume, under gunicorn,
beside a bare 50-row page served in the same rounds.

    .venv/bin/python bench/pages.py [--rounds 3] [--seconds 5] [--connections 4]
        [--build] [--db fl_pages_bench] [--port 8130] [--only incidents,api-incidents]
        [--markdown docs/performance-pages.md]

Production-like: gunicorn with 2 sync workers, DEBUG=0, a SECRET_KEY, ALLOWED_HOSTS, requests
as from behind a TLS proxy, PostgreSQL with connections kept (the default). The volume is
bench/data.py's (100,000 incidents, 1,000,000 access events with their alarms, runs, shifts,
view log), built once into `--db` and reused by later runs (`--build` builds it again; the
size options of bench/data.py may follow `--build`).

The load generator is wrk (`/usr/bin/wrk`, `--connections` connections, one thread) for
`--seconds` per page; pages are signed in as the demo manager (HQ and WH), the API with the
manager's token. Each round measures every page once, in an order rotated by the round, and
the bare page (bench/server/urls.py: one query for 50 rows of a plain table, no template)
before every third of them, so every ratio compares measurements taken side by side. Prints per
page requests/s, p50 and p95 latency (medians over rounds), min/median/max of requests/s and
of the ratio to the bare page, and whether the issue's target holds (lists >= 30 % of the bare
page, detail pages >= 20 %). Timing is printed, never asserted.

The benchmark runs against whatever list code the checkout holds: it only requests URLs.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402

HOST = "127.0.0.1"
BARE = "bare page (50 rows)"
LIST_TARGET, DETAIL_TARGET = 0.30, 0.20
# The bare page is measured before every BARE_EVERY pages; their ratios use that measurement.
BARE_EVERY = 3

# (name, kind, path): kind is "list" or "detail"; {incident} and the like are filled in from
# the prepared database.
PAGES = [
    ("incident list", "list", "/incidents/"),
    ("incident search", "list", "/incidents/?text=ladder"),
    ("review queue", "list", "/incidents/review/"),
    ("access events", "list", "/access/events/"),
    ("alarm console", "list", "/access/alarms/"),
    ("audit overview", "list", "/audit/"),
    ("view log", "list", "/audit/views/"),
    ("shifts (HQ)", "list", "/sites/HQ/shifts/"),
    ("rounds (HQ)", "list", "/sites/HQ/rounds/"),
    ("API incidents", "list", "/api/v1/incidents/"),
    ("API incident search", "list", "/api/v1/incidents/?text=ladder"),
    ("API access events", "list", "/api/v1/access-events/"),
    ("API scans", "list", "/api/v1/scans/"),
    ("API runs", "list", "/api/v1/runs/"),
    ("API shifts", "list", "/api/v1/shifts/"),
    ("API round exceptions", "list", "/api/v1/round-exceptions/"),
    ("incident page", "detail", "/incidents/{incident}/"),
    ("alarm page", "detail", "/access/alarms/{alarm}/"),
    ("run page", "detail", "/rounds/runs/{run}/"),
    ("shift report", "detail", "/shifts/{shift}/"),
    ("API incident", "detail", "/api/v1/incidents/{incident}/"),
]

# The fixed cost of being signed in (docs/performance.md): the bare page behind the sign-in and
# the second step, and the API's cheapest endpoint. Measured when named in --only.
FLOOR = [
    ("floor: signed-in bare page", "floor", "/bench/signed-in-bare-page/"),
    ("floor: API me", "floor", "/api/v1/me/"),
]

LUA = """
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {\\"requests\\": %d, \\"duration\\": %d, \\"status\\": %d, \\"socket\\": %d,"
    .. " \\"p50\\": %d, \\"p95\\": %d}\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


def server_env(db: str, media: str) -> dict:
    env = dict(os.environ, **data.environment(db))
    env.update(
        BEHIND_TLS_PROXY="1",
        DJANGO_SETTINGS_MODULE="bench.server.settings",
        MEDIA_ROOT=media,
        # Kept between runs: collecting and compressing the static files takes minutes.
        STATIC_ROOT=str(Path(tempfile.gettempdir()) / f"{ROOT.name}-bench-static"),
        PYTHONPATH=str(ROOT),
    )
    return env


# --- preparing (a child process with the server's settings) -------------------------------------


def verified_session(client, user) -> None:
    """Sign `user` in on `client` as after both steps: a manager must pass the second step
    (services/two_factor.py), or every page answers with a redirect to it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def prepare(out: Path) -> None:
    """Apply the checkout's migrations, collect the static files, sign the manager in (a
    session), issue a token, create the bare page's table, and choose the records whose
    detail pages are measured; write it all as JSON to `out`."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.server.urls import BARE_PAGE_TABLE, CREATE_BARE_PAGE_TABLE, FILL_BARE_PAGE_TABLE
    from facility_log.models import Alarm, Incident, Run, Shift
    from facility_log.services import accounts

    # This checkout's migrations (its indexes among them) on the volume, and fresh statistics.
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    from django.conf import settings

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)  # the manifest production needs
    with connection.cursor() as cursor:
        cursor.execute(CREATE_BARE_PAGE_TABLE)
        cursor.execute(f"SELECT count(*) FROM {BARE_PAGE_TABLE}")  # noqa: S608
        if not cursor.fetchone()[0]:
            cursor.execute(FILL_BARE_PAGE_TABLE)
    manager = get_user_model().objects.get(username="manager")
    client = Client()
    verified_session(client, manager)
    _token, key = accounts.issue_api_token(manager, accounts.system_actor(), reason="bench")
    plan = {
        "session": client.cookies["sessionid"].value,
        "token": key,
        "incident": Incident.objects.filter(site__code="HQ", status="approved")
        .order_by("-occurred_from")
        .values_list("pk", flat=True)
        .first(),
        "alarm": Alarm.objects.filter(site__code="HQ", state="resolved")
        .order_by("-raised_at")
        .values_list("pk", flat=True)
        .first(),
        "run": Run.objects.filter(site__code="HQ", finished_at__isnull=False)
        .order_by("-started_at")
        .values_list("pk", flat=True)
        .first(),
        "shift": Shift.objects.filter(site__code="HQ", ended_at__isnull=False)
        .order_by("-started_at")
        .values_list("pk", flat=True)
        .first(),
        "volume": data.built_volume(connection.settings_dict["NAME"]),
        "incidents": Incident.objects.count(),
    }
    out.write_text(json.dumps(plan))


# --- measuring ------------------------------------------------------------------------------


def headers_for(path: str, plan: dict) -> dict:
    headers = {"X-Forwarded-Proto": "https", "Host": HOST}
    if path.startswith("/api/"):
        headers["Authorization"] = f"Token {plan['token']}"
    elif not path.startswith("/bench/bare-"):
        headers["Cookie"] = f"sessionid={plan['session']}"
    return headers


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to sign-in, to the second step) is an answer, not the page


def check(port: int, path: str, headers: dict) -> None:
    """One request first: a page that answers anything but 200 (a redirect to the sign-in or
    the second step among them) is not measured."""
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=headers)
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=120) as response:
            status = response.status
            response.read()
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        raise SystemExit(f"{path} answered {status}, not 200: check the bench set-up")


def wrk(port: int, path: str, headers: dict, args, script: Path) -> dict:
    command = [args.wrk, "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "30s"]
    command += ["-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://{HOST}:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / (result["duration"] / 1e6)
    return result


def settle(port: int) -> None:
    """Wait until the workers have finished the requests wrk left behind (a slow page's
    queue would otherwise be counted against the next measurement)."""
    headers = headers_for("/bench/bare-page/", {})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        started = time.monotonic()
        check(port, "/bench/bare-page/", headers)
        if time.monotonic() - started < 0.2:
            return


def start_server(env: dict, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "2"]
    command += ["--bind", f"{HOST}:{port}", "--log-level", "warning", "--timeout", "120"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    probe = urllib.request.Request(
        f"http://{HOST}:{port}/bench/bare-page/", headers={"X-Forwarded-Proto": "https"}
    )
    for _ in range(150):
        try:
            with urllib.request.urlopen(probe, timeout=5):  # noqa: S310
                return server
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def spread(values, spec: str) -> str:
    return " ".join(format(v, spec) for v in (min(values), statistics.median(values), max(values)))


def summarise(pages, results: dict, bare_pairs: dict) -> list[dict]:
    """Per page: medians of rps, p50, p95 over rounds, and the per-round ratios."""
    rows = []
    for name, kind, _path in pages:
        runs = results[name]
        ratios = [
            r["rps"] / b["rps"] if b["rps"] else float("nan")
            for r, b in zip(runs, bare_pairs[name], strict=True)
        ]
        target = {"list": LIST_TARGET, "detail": DETAIL_TARGET}.get(kind)
        rows.append(
            {
                "name": name,
                "kind": kind,
                "rps": [r["rps"] for r in runs],
                "p50": statistics.median(r["p50"] for r in runs) / 1000,
                "p95": statistics.median(r["p95"] for r in runs) / 1000,
                "ratios": ratios,
                "target": target,
                "meets": target is None or statistics.median(ratios) >= target,
                "non2xx": sum(r["status"] + r["socket"] for r in runs),
            }
        )
    return rows


def report(rows: list[dict], bare: list[dict], plan: dict, args) -> str:
    volume = plan.get("volume") or {}
    lines = [
        f"pages bench: gunicorn 2 sync workers, DEBUG=0, PostgreSQL `{args.db}`"
        f" ({plan['incidents']:,} incidents, {volume.get('events', 0):,} access events);"
        f" wrk {args.connections} connections x {args.seconds} s;"
        f" {args.rounds} interleaved rounds, order rotated",
        f"bare page: {spread([b['rps'] for b in bare], '.0f')} req/s (min/median/max),"
        f" p50 {statistics.median(b['p50'] for b in bare) / 1000:.1f} ms",
        "",
        "| page | kind | req/s min / median / max | p50 ms | p95 ms | x bare min / median / max"
        " | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        note = f" ({row['non2xx']} errors)" if row["non2xx"] else ""
        lines.append(
            f"| {row['name']}{note} | {row['kind']} | {spread(row['rps'], '.1f')} |"
            f" {row['p50']:.0f} | {row['p95']:.0f} | {spread(row['ratios'], '.3f')} |"
            f" {format(row['target'], '.0%') if row['target'] else '-'} |"
            f" {'yes' if row['meets'] else 'no'} |"
        )
    met = sum(row["meets"] for row in rows)
    lines.append("")
    lines.append(f"{met} of {len(rows)} pages meet their target.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=data.DEFAULT_DB)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per page")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=8130)
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--only", help="comma-separated page names to measure")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--build", action="store_true", help="build the volume again first")
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args, build_args = parser.parse_known_args()
    if args.prepare:
        prepare(Path(args.prepare))
        return
    if args.build or data.built_volume(args.db) is None:
        print(f"building the volume into {args.db} (bench/data.py) ...", flush=True)
        subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "bench" / "data.py"), f"--db={args.db}", *build_args],
            cwd=ROOT,
            check=True,
        )
    pages = PAGES
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        pages = [page for page in PAGES + FLOOR if page[0] in wanted]
    with tempfile.TemporaryDirectory() as folder:
        env = server_env(args.db, folder)
        plan_file = Path(folder) / "plan.json"
        subprocess.run(  # noqa: S603
            [sys.executable, __file__, f"--prepare={plan_file}"], cwd=ROOT, env=env, check=True
        )
        plan = json.loads(plan_file.read_text())
        script = Path(folder) / "report.lua"
        script.write_text(LUA)
        targets = [(name, kind, path.format(**plan)) for name, kind, path in pages]
        bare_path = "/bench/bare-page/"
        server = start_server(env, args.port)
        try:
            for _name, _kind, path in [("bare", "", bare_path), *targets]:
                check(args.port, path, headers_for(path, plan))  # also warms both workers up
                check(args.port, path, headers_for(path, plan))
            results = {name: [] for name, _k, _p in targets}
            pairs = {name: [] for name, _k, _p in targets}
            bare = []
            began = time.perf_counter()
            for number in range(args.rounds):
                shift = number % len(targets)
                for n, (name, _kind, path) in enumerate(targets[shift:] + targets[:shift]):
                    if n % BARE_EVERY == 0:
                        baseline = wrk(
                            args.port, bare_path, headers_for(bare_path, plan), args, script
                        )
                        bare.append(baseline)
                        settle(args.port)
                    measured = wrk(args.port, path, headers_for(path, plan), args, script)
                    settle(args.port)
                    pairs[name].append(baseline)
                    results[name].append(measured)
                print(
                    f"  round {number + 1} done ({time.perf_counter() - began:.0f} s)", flush=True
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    raw = Path(tempfile.gettempdir()) / f"{ROOT.name}-pages-raw.json"
    raw.write_text(json.dumps({"results": results, "pairs": pairs, "bare": bare}))
    text = report(summarise(targets, results, pairs), bare, plan, args)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
