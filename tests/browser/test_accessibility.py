"""Every page of the app passes axe-core's WCAG 2.0/2.1/2.2 A and AA rules: in the light and
the dark theme, on a desk (1280×800) and a tablet (768×1024).

The pages are enumerated from the URL conf, so a page added later is checked without touching
this file: each named pattern is resolved, its `<int:pk>`-style arguments filled from the demo
data (`seed_demo`), and opened as the first demo person who may see it. Patterns that cannot be
built, or that are not pages (POST-only actions, downloads), are listed below and reported.
See docs/accessibility.md.
"""

import datetime
import warnings
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import expect

from facility_log.management.commands.seed_demo import DEMO_PASSWORD
from facility_log.models import (
    Alarm,
    Attachment,
    Checkpoint,
    Door,
    ImportBatch,
    ImportJob,
    Incident,
    Membership,
    Notification,
    Route,
    Run,
    Scan,
    Schedule,
    Shift,
    Site,
)
from facility_log.services import access_jobs
from tests.browser.conftest import TABLET
from tests.two_factor_helpers import pass_second_step, ready_for_second_step

SAMPLE_EVENTS = Path(settings.BASE_DIR) / "samples" / "access-events" / "generic.csv"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESK = {"width": 1280, "height": 800}
VIEWPORTS = {"desk": DESK, "tablet": TABLET}
THEMES = ["light", "dark"]
# Who opens a page: the first of these the page lets in (guards see the tablet, managers the
# site pages, the auditor the ledger, the superuser whatever is left).
PEOPLE = ["manager", "supervisor", "guard", "auditor", "admin"]
SITE = "HQ"
# Pages whose first reader is someone else: the tablet is the guard's (a manager sees its
# "no guard role" screen).
FIRST_READER = {"tablet": "guard"}

# Patterns that are not pages a person reads (machine endpoints, sign-in steps shown before a
# person is signed in, one-time links), checked elsewhere or not at all. Keep this short.
NOT_PAGES = {
    "logout": "POST only; signs the browser out",
    "tablet-sw": "service worker script",
    "tablet-manifest": "web manifest (JSON); its icons are tested in test_tablet_manifest",
    "set-password": "needs a one-time token from an invitation email",
    "two-factor-verify": "shown before sign-in is complete (covered by test_login_pages)",
    "two-factor-setup": "shown before sign-in is complete (covered by test_login_pages)",
    "login": "shown signed out (covered by test_login_pages)",
}
# String arguments that are not site codes, days or months: the values that make a page.
STRING_ARGS = {
    ("incident-transition", "action"): ["return", "void"],
    ("incident-legal-hold", "action"): ["place"],
    ("incident-correct-field", "field"): ["severity"],
    ("incident-add-item", "kind"): ["person"],
}


def _pk_sources():
    """URL-name prefix → how to find a record for its `pk` (longest prefix wins)."""
    submitted = Incident.objects.filter(site__code=SITE).exclude(status="draft")
    return {
        "incident": lambda: submitted.order_by("pk").first(),
        "notification": lambda: Notification.objects.order_by("pk").first(),
        "attachment": lambda: Attachment.objects.order_by("pk").first(),
        "checkpoint": lambda: Checkpoint.objects.filter(site__code=SITE).first(),
        "round-scan-report": lambda: Scan.objects.filter(run__site__code=SITE).first(),
        "round": lambda: (
            Run.objects.filter(site__code=SITE, finished_at=None).first()
            or Run.objects.filter(site__code=SITE).first()
        ),
        "access-alarm": lambda: Alarm.objects.filter(site__code=SITE, state="new").first(),
        "door": lambda: Door.objects.filter(site__code=SITE).first(),
        "access-import-job": lambda: ImportJob.objects.first(),
        "access-import": lambda: ImportBatch.objects.first(),
        "shift": lambda: Shift.objects.filter(site__code=SITE).first(),
        "people": lambda: Membership.objects.filter(site__code=SITE, role="guard").first(),
        "schedule": lambda: Schedule.objects.filter(route__site__code=SITE).first(),
        "route": lambda: Route.objects.filter(site__code=SITE).first(),
    }


def _named_patterns(resolver=None, prefix=""):
    """(name, parameter names) of every named pattern, in the URL conf's order."""
    resolver = resolver or get_resolver("facility_log.urls")
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _named_patterns(entry, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, list(entry.pattern.converters) or _regex_groups(entry)


def _regex_groups(entry) -> list[str]:
    return list(entry.pattern.regex.groupindex)


def _value_choices(name: str, arg: str, pks: dict) -> list | None:
    """The values to try for one argument, or None when this test cannot make one."""
    today = datetime.date.today()
    if (name, arg) in STRING_ARGS:
        return STRING_ARGS[(name, arg)]
    if arg == "code":
        return [SITE]
    if arg == "day":
        return [today.isoformat()]
    if arg == "month":
        return [today.strftime("%Y-%m")]
    if arg in ("pk", "route_id"):
        source = "route" if arg == "route_id" else name
        matches = [prefix for prefix in pks if source.startswith(prefix)]
        if not matches:
            return None
        record = pks[max(matches, key=len)]()
        return [record.pk] if record else None
    return None


def page_urls() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """([(name, path)], {name: why skipped}) for every named pattern of the app."""
    pks = _pk_sources()
    urls, skipped = [], {}
    for name, args in _named_patterns():
        if name in NOT_PAGES:
            skipped[name] = NOT_PAGES[name]
            continue
        kwargs_list = [{}]
        for arg in args:
            choices = _value_choices(name, arg, pks)
            if choices is None:
                kwargs_list = None
                skipped[name] = f"cannot fill <{arg}> from the demo data"
                break
            kwargs_list = [dict(k, **{arg: value}) for k in kwargs_list for value in choices]
        for kwargs in kwargs_list or []:
            urls.append((name, reverse(name, kwargs=kwargs)))
    return urls, skipped


class SignedIn:
    """One signed-in browser context per demo person, made when first needed."""

    def __init__(self, browser, base_url):
        self.browser, self.base_url, self.pages = browser, base_url, {}

    def page(self, username: str):
        if username not in self.pages:
            context = self.browser.new_context(viewport=DESK, base_url=self.base_url)
            page = context.new_page()
            ready_for_second_step(username)
            page.goto("/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            pass_second_step(page, username)
            expect(page.locator("main")).to_be_visible()
            self.pages[username] = page
        return self.pages[username]

    def close(self):
        for page in self.pages.values():
            page.context.close()


def axe_violations(page, theme: str) -> list[str]:
    """axe-core's WCAG A/AA violations on the page as it is now, in one theme."""
    page.evaluate(
        "(theme) => { localStorage.setItem('facility_log.theme', theme);"
        " document.documentElement.dataset.theme = theme; }",
        theme,
    )
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's Content-Security-Policy
        # (scripts from this server only) stays on while axe looks at it.
        page.evaluate(AXE.read_text(encoding="utf-8") + ";undefined")
    results = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => v.id + ' (' + v.impact + '): '
                + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' — '
                + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160)).join(' | '));
        }""",
        WCAG_TAGS,
    )
    return results


def _open_as_someone(people: SignedIn, name: str, path: str):
    """The page at path, as the first demo person it lets in, or (None, why not). The request
    is made first without the page, so downloads and POST-only actions are never navigated."""
    last = None
    first = FIRST_READER.get(name)
    for username in [first] * bool(first) + [p for p in PEOPLE if p != first]:
        page = people.page(username)
        response = page.request.get(path)
        last = response.status
        if response.status in (403, 404):
            continue
        if response.status == 405:
            return None, "POST only (an action, not a page)"
        kind = response.headers.get("content-type", "")
        if not kind.startswith("text/html"):
            return None, f"a download ({kind.split(';')[0]})"
        if response.status != 200:
            return None, f"HTTP {response.status}"
        page.goto(path)
        return page, username
    return None, f"nobody in the demo may open it (last status {last})"


@pytest.fixture
def demo_world(transactional_db):
    """The demo (seed_demo), plus one imported file of door events at HQ: its job and batch
    pages, and the alarms its forced doors raise."""
    call_command("seed_demo", "--force", stdout=StringIO())
    manager = get_user_model().objects.get(username="manager")
    upload = SimpleUploadedFile("generic.csv", SAMPLE_EVENTS.read_bytes(), "text/csv")
    job = access_jobs.start_import_job(
        Site.objects.get(code=SITE), manager, upload=upload, file_format="generic-csv"
    )
    access_jobs.run_import_job(job)


def test_every_page_has_no_wcag_violations(browser, live_server, demo_world):
    urls, skipped = page_urls()
    people = SignedIn(browser, live_server.url)
    problems, checked, seen = [], [], set()
    try:
        for name, path in urls:
            page, who = _open_as_someone(people, name, path)
            if page is None:
                skipped[f"{name} {path}"] = who
                continue
            final = page.url.split("?")[0]
            if final in seen:
                continue
            seen.add(final)
            checked.append(f"{name} ({who})")
            for viewport_name, viewport in VIEWPORTS.items():
                page.set_viewport_size(viewport)
                for theme in THEMES:
                    for violation in axe_violations(page, theme):
                        problems.append(f"{path} [{viewport_name}, {theme}]: {violation}")
    finally:
        people.close()
    report = "\n".join(f"  skipped {name}: {why}" for name, why in skipped.items())
    warnings.warn(
        f"accessibility: checked {len(checked)} pages; not checked:\n{report}", stacklevel=1
    )
    print(f"checked {len(checked)} pages: {', '.join(checked)}\n{report}")
    assert len(checked) >= 40, f"too few pages checked: {checked}\n{report}"
    assert problems == [], "\n".join(problems)


def test_login_pages_have_no_wcag_violations(browser, live_server, demo_world):
    """The sign-in pages a person sees before being signed in, both steps."""
    problems = []
    for viewport in VIEWPORTS.values():
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        page = context.new_page()
        page.goto("/login/")
        for theme in THEMES:
            problems += [f"login {theme}: {v}" for v in axe_violations(page, theme)]
        ready_for_second_step("manager")
        page.get_by_label("Username").fill("manager")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/account/two-factor/verify/**")
        for theme in THEMES:
            problems += [f"second step {theme}: {v}" for v in axe_violations(page, theme)]
        context.close()
    assert problems == [], "\n".join(problems)
