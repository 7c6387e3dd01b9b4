"""The police package with large photos: time and peak memory of the package beside a bare
WeasyPrint render of the same report, measured in the same run.

    .venv/bin/python bench/export.py [--photos 20] [--sizes 1,5] [--rounds 3]

Setup (its own process): a SQLite database and a media folder in a temporary directory, the
test personas, and for each size an incident with PHOTOS attachments of about SIZE MB each —
real image bytes, half JPEG and half PNG, photo-like (smooth colour fields and sensor noise),
all different — submitted through the services (`add_attachment`, the upload path, which also
makes and stores each photo's report thumbnail, as any upload does). The report's HTML
(thumbnails inlined) is saved for the bare render.

Then ROUNDS interleaved rounds, the order rotated each round, each measurement in its own
process so that each peak RSS is its own:

- bare: WeasyPrint renders the saved HTML of the largest size's report to PDF/A-3b
  (`pdf_report.html_to_pdf`), the least any package must do;
- package SIZE MB: `write_incident_package` into a temporary file, as the download view calls
  it (every query, the stored thumbnails checked against their ledger entries, every JSON
  file, the PDF, the zip with its hashes, the pass that hashes the zip for the disclosure log,
  the disclosure and view-log rows).

Prints min/median/max of seconds, of CPU seconds (steadier than the clock when other jobs share
the machine) and of peak RSS (MB, and its growth over the process's RSS before the
measurement); the ratios of each round's package to that round's bare render; and the queries
per package (they must not grow with the photos' size). Asserts nothing.
"""

import argparse
import io
import json
import logging
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000


def _django(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ["DEBUG"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # font-subsetting notices


# --- photos --------------------------------------------------------------------------------


def _image(fmt: str, width: int, rng: random.Random) -> bytes:
    from PIL import Image

    height = width * 3 // 4
    colours = rng.randbytes(40 * 30 * 3)
    base = Image.frombytes("RGB", (40, 30), colours).resize((width, height), Image.BICUBIC)
    # effect_noise draws from C's rand(): the colour fields above make each photo differ.
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 48) for _ in range(3)])
    buffer = io.BytesIO()
    options = {"quality": 92} if fmt == "JPEG" else {}
    Image.blend(base, noise, 0.4).save(buffer, fmt, **options)
    return buffer.getvalue()


def photo_widths(size: int) -> dict[str, int]:
    """The width that makes a JPEG and a PNG of about `size` bytes (measured, not guessed)."""
    widths = {}
    for fmt, trial in (("JPEG", 1600), ("PNG", 800)):
        made = len(_image(fmt, trial, random.Random(0)))
        widths[fmt] = max(64, int(trial * (size / made) ** 0.5) // 8 * 8)
    return widths


# --- setup -----------------------------------------------------------------------------------


def setup(folder: Path, photos: int, sizes: list[int], out) -> None:
    _django(folder)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from facility_log.services import incidents as svc
    from tests.incident_factories import category
    from tests.personas import build_personas

    call_command("migrate", verbosity=0)
    p = build_personas()
    made = {}
    for size in sizes:
        incident, _ = svc.create_incident(
            p.guard_a,
            site=p.site_a,
            client_uuid=uuid.uuid4(),
            category=category("Theft"),
            zone=p.zone_a,
            narrative=f"Break-in; {photos} photos of {size} MB taken by the guard.",
            persons=[{"role": "witness", "name": "Wendy Witness", "statement": "Saw it."}],
        )
        widths = photo_widths(size * MB)
        stored = 0
        for n in range(photos):
            fmt = ("JPEG", "PNG")[n % 2]
            data = _image(fmt, widths[fmt], random.Random(f"{size}-{n}"))
            stored += len(data)
            name = f"photo{n:02d}.{fmt.lower().replace('jpeg', 'jpg')}"
            upload = SimpleUploadedFile(name, data, content_type=f"image/{fmt.lower()}")
            svc.add_attachment(incident, p.guard_a, upload=upload, description=f"photo {n}")
        incident = svc.submit_incident(incident, p.guard_a)
        made[size] = {"pk": incident.pk, "bytes": stored}
        print(f"  {photos} photos of {size} MB: {stored / MB:.1f} MB stored", flush=True)
    _save_report_html(folder, max(sizes), made[max(sizes)]["pk"], p.manager_ab)
    out.put(made)


def _save_report_html(folder: Path, size: int, pk: int, actor) -> None:
    from django.utils import timezone

    from facility_log.models import Incident
    from facility_log.services.incident_bundle import load_bundle
    from facility_log.services.incident_package import history_document, incident_document
    from facility_log.services.ledger import ledger_head
    from facility_log.services.pdf_report import report_html

    bundle = load_bundle(Incident.objects.get(pk=pk))
    document = incident_document(bundle, [])
    _history, entries = history_document(bundle, [])
    html = report_html(bundle, document, entries, ledger_head(), timezone.now(), actor, "Police")
    (folder / "report.html").write_text(html)
    (folder / "incident.json").write_text(json.dumps(document))
    (folder / "number.txt").write_text(bundle.incident.number)


# --- measurements ------------------------------------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(folder: Path, what: str, pk: int, out) -> None:
    _django(folder)
    # Both kinds import WeasyPrint before the clock: its start-up is not what is measured.
    import weasyprint  # noqa: F401
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from facility_log.models import Incident
    from facility_log.services.pdf_report import html_to_pdf

    queries = None
    if what == "bare":
        html = (folder / "report.html").read_text()
        document = json.loads((folder / "incident.json").read_text())
        number = (folder / "number.txt").read_text()
        before, wall, cpu = _rss_mb(), time.perf_counter(), time.process_time()
        size = len(html_to_pdf(html, document, number))
    else:
        from django.contrib.auth import get_user_model

        incident = Incident.objects.select_related("site").get(pk=pk)
        actor = get_user_model().objects.get(username="manager_ab")
        before, wall, cpu = _rss_mb(), time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as captured:
            size = build_package(incident, actor)
        queries = len(captured)
    out.put(
        {
            "seconds": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
            "peak": _rss_mb(),
            "before": before,
            "bytes": size,
            "q": queries,
        }
    )


def build_package(incident, actor) -> int:
    """The package as the download view builds it, into a temporary file ready to be sent;
    returns its size in bytes."""
    from facility_log.services.incident_package import write_incident_package

    with tempfile.TemporaryFile(prefix="police-package-") as package:
        write_incident_package(incident, actor, package, recipient="City Police", reason="bench")
        return package.seek(0, os.SEEK_END)


def run(target, *args):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    value = queue.get()
    process.join()
    if process.exitcode:
        raise SystemExit(f"{target.__name__} {args[1:]} failed (exit {process.exitcode})")
    return value


def _spread(values: list[float], fmt: str) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{format(low, fmt)} / {format(mid, fmt)} / {format(high, fmt)}"


def report(results: dict[str, list[dict]], made: dict, photos: int) -> None:
    bare = results["bare"]
    print(
        f"\n{'(min / median / max)':<16}{'seconds':>22}{'CPU seconds':>22}"
        f"{'peak RSS MB':>18}{'growth MB':>16}"
    )
    for what, rows in results.items():
        seconds = _spread([r["seconds"] for r in rows], ".2f")
        cpu = _spread([r["cpu"] for r in rows], ".2f")
        peak = _spread([r["peak"] for r in rows], ".0f")
        growth = _spread([r["peak"] - r["before"] for r in rows], ".0f")
        print(f"{what:<16}{seconds:>22}{cpu:>22}{peak:>18}{growth:>16}")
    print()
    for what, rows in results.items():
        if what == "bare":
            continue
        ratios = [r["seconds"] / b["seconds"] for r, b in zip(rows, bare, strict=True)]
        cpu_ratios = [r["cpu"] / b["cpu"] for r, b in zip(rows, bare, strict=True)]
        size = int(what.split()[1])
        print(
            f"{what}: ×{_spread(ratios, '.2f')} the bare render in time, "
            f"×{_spread(cpu_ratios, '.2f')} in CPU (per round); {photos} photos, "
            f"{made[size]['bytes'] / MB:.0f} MB of attachments, zip {rows[0]['bytes'] / MB:.0f} "
            f"MB, {rows[0]['q']} queries"
        )
    packages = [what for what in results if what != "bare"]
    if len(packages) > 1:
        peaks = [statistics.median(r["peak"] for r in results[what]) for what in packages]
        print(
            f"peak RSS, median: {' vs '.join(f'{p:.0f} MB' for p in peaks)} "
            f"({' vs '.join(packages)}): {peaks[-1] - peaks[0]:+.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--sizes", default="1,5", help="photo sizes in MB, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="fl-exportbench-") as tmp:
        folder = Path(tmp)
        print(f"setting up {args.photos} photos for each of {sizes} MB in {folder}", flush=True)
        made = run(setup, folder, args.photos, sizes)
        kinds = [("bare", 0)] + [(f"package {s} MB", made[s]["pk"]) for s in sizes]
        results: dict[str, list[dict]] = {what: [] for what, _ in kinds}
        for round_no in range(args.rounds):
            shift = round_no % len(kinds)
            for what, pk in kinds[shift:] + kinds[:shift]:
                results[what].append(run(measure, folder, what, pk))
            print(f"  round {round_no + 1} of {args.rounds} done", flush=True)
        report(results, made, args.photos)


if __name__ == "__main__":
    main()
