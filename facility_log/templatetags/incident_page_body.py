"""The incident page's content written in one pass (`{% incident_page_top %}` and
`{% incident_page_rest %}` in incidents/detail.html): the same markup as the template it
replaces, which rendered some 250 nodes per request (a third of the page's time in process:
docs/performance.md). Every value is written as the template wrote it: text escaped, other
values through `render_value_in_context` (localized numbers, model instances' text), the
filters called as the template called them; every message translated by the same message id
(`_t`, kept per language), a `{% translate %}` unescaped as the tag left it. Only the
procedure's checklist, which the alarm page shares, is still included by the template.
`tests/views/test_incident_page_markup.py` compares the page with the template it replaced."""

from functools import lru_cache

from django import template
from django.conf import settings
from django.template.base import render_value_in_context
from django.template.defaultfilters import linebreaksbr
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_noop

from facility_log.lazy_text import text
from facility_log.templatetags.facility_log_tags import _choice, _esc, _t, site_time, url_of

register = template.Library()

# The messages written inside f-strings below, marked for makemessages: xgettext does
# not read the expressions of an f-string (the management command `makemessages` adds
# `_t` and `bt` as keywords for the rest).
_MARKED = (
    gettext_noop("Release hold…"),
    gettext_noop("Not on legal hold."),
    gettext_noop("Place legal hold…"),
    gettext_noop("Edit draft"),
    gettext_noop("Submit for review"),
    gettext_noop("Close"),
    gettext_noop("Export for police"),
    gettext_noop("Void…"),
    gettext_noop("History"),
    gettext_noop("Review"),
    gettext_noop("What the author should add or correct"),
    gettext_noop("Return to author"),
    gettext_noop("Approval comment (optional)"),
    gettext_noop("Approve"),
    gettext_noop("Title"),
    gettext_noop("Actions taken"),
    gettext_noop("Report"),
    gettext_noop("Category"),
    gettext_noop("Severity"),
    gettext_noop("Occurred"),
    gettext_noop("Discovered"),
    gettext_noop("Reported"),
    gettext_noop("What happened"),
    gettext_noop("Police"),
    gettext_noop("Agency"),
    gettext_noop("Case number"),
    gettext_noop("Officer"),
    gettext_noop("Notified at"),
    gettext_noop("Threat received"),
    gettext_noop("Arrived by"),
    gettext_noop("Words used"),
    gettext_noop("Target"),
)

_PK_MARK = 987654321987654321
# The correctable fields shown as site times (the template's `elif name == … or …`).
_TIMES = frozenset({"occurred_from", "occurred_to", "discovered_at", "police_notified_at"})


class _Page:
    """What every part writes with: the context's values and the request's CSRF input."""

    def __init__(self, context):
        self.context = context
        self.incident = context["incident"]
        self.site = self.incident.site
        self.can = context["can"]
        self.pk = self.incident.pk
        self.csrf = _csrf_input(context)

    def v(self, value) -> str:
        """`{{ value }}`: text escaped, anything else as the template writes it (a lazy
        label's translation kept per language: `lazy_text.text`)."""
        if type(value) is str:
            return _esc(value)
        if isinstance(value, Promise):
            value = text(value)
        return render_value_in_context(value, self.context)

    def choice(self, instance, field: str) -> str:
        """`{{ instance.get_FIELD_display }}`, the labels kept per language (`_choice`)."""
        return self.v(_choice(type(instance), field, getattr(instance, field)))

    def bt(self, message: str, **values) -> str:
        """`{% blocktranslate trimmed with … %}`: the message's translation, each value written
        as `{{ value }}` writes it."""
        return _t(message) % {name: self.v(value) for name, value in values.items()}


def _csrf_input(context) -> str:
    """`{% csrf_token %}` (CsrfTokenNode): one masked token for the whole render, as the
    context's lazy `csrf_token` gives the template."""
    token = context.get("csrf_token")
    if not token:
        return ""
    if token == "NOTPROVIDED":
        return ""
    return str(format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token))


@lru_cache(maxsize=64)
def _url_parts(name: str, arg: str, prefix: str, urlconf) -> tuple[str, str]:
    url = reverse(name, args=[_PK_MARK, arg], urlconf=urlconf)
    before, _mark, after = url.partition(str(_PK_MARK))
    return before, after


def _url(name: str, pk: int, arg: str) -> str:
    """`{% url name pk arg %}` for a view taking an id and a word, reversed once per word."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF  # a test may change the setting
    before, after = _url_parts(name, arg, get_script_prefix(), urlconf)
    return _esc(f"{before}{int(pk)}{after}")


def _name(user) -> str:
    """`user.get_full_name|default:user.get_username`."""
    return user.get_full_name() or user.get_username()


def _if(condition, html: str) -> str:
    return html if condition else ""


# --- above the procedure's checklist --------------------------------------------------------


def _heading(page: _Page) -> str:
    incident, v = page.incident, page.v
    zone = f" / {v(incident.zone.name)}" if incident.zone else ""
    where = f" · {v(incident.location_text)}" if incident.location_text else ""
    reported = page.bt(
        "· reported by %(name)s · version %(version)s",
        name=_name(incident.author),
        version=incident.version,
    )
    return (
        f'\n<h1>{v(incident.label)} <span class="badge status-{v(incident.status)}">'
        f"{page.choice(incident, 'status')}</span></h1>\n"
        f'<p class="help">{v(page.site.code)} – {v(page.site.name)}{zone}{where} {reported}</p>\n'
    )


def _notes(page: _Page) -> str:
    """The reviewer's reason to return, the void reason, the legal hold."""
    returned, incident = page.context["returned_because"], page.incident
    html = ""
    if returned:
        message = page.bt(
            "Returned by %(name)s: %(comment)s — add a supplement or correct a field, "
            "then submit again.",
            name=_name(returned.reviewer),
            comment=returned.comment,
        )
        html += f'<p class="warning" role="note">{message}</p>'
    html += "\n"
    if incident.status == "void":
        message = page.bt("Void: %(void_reason)s", void_reason=incident.void_reason)
        html += f'<p class="warning" role="note">{message}</p>'
    return html + "\n" + _hold(page)


def _hold(page: _Page) -> str:
    """The legal hold, as the include retention/_incident_hold.html wrote it (kept in
    tests/views/incident_page_before/)."""
    hold, can = page.context["legal_hold"], page.can
    if hold:
        message = page.bt(
            "On legal hold since %(placed_at)s (%(name)s): %(reason)s. Kept past its "
            "retention period until released.",
            placed_at=site_time(hold.placed_at, page.site),
            name=hold.placed_by.get_username(),
            reason=hold.reason,
        )
        url = _url("incident-legal-hold", page.pk, "release")
        release = _if(
            can["hold"],
            f' <a class="button secondary" href="{url}">{_t("Release hold…")}</a>',
        )
        return f'\n<p class="warning" role="note">{message}{release}</p>\n\n'
    if can["hold"]:
        return (
            f'\n<p class="help">{_t("Not on legal hold.")} <a class="button secondary" '
            f'href="{_url("incident-legal-hold", page.pk, "place")}">'
            f"{_t('Place legal hold…')}</a></p>\n"
        )
    return "\n\n"


def _actions(page: _Page) -> str:
    can, pk = page.can, page.pk
    edit = _if(
        can["edit"],
        f'<a class="button secondary" href="{url_of(pk, "incident-edit")}">{_t("Edit draft")}</a>',
    )
    submit = _if(
        can["submit"],
        f'\n  <form method="post" action="{_url("incident-transition", pk, "submit")}">'
        f'{page.csrf}<button type="submit">{_t("Submit for review")}</button></form>\n  ',
    )
    close = _if(
        can["close"],
        f'<a class="button" href="{_url("incident-transition", pk, "close")}">{_t("Close")}</a>',
    )
    export = _if(
        can["export"],
        f'<a class="button secondary" href="{url_of(pk, "incident-police-package")}">'
        f"{_t('Export for police')}</a>",
    )
    void = _if(
        can["void"],
        f'<a class="button danger" href="{_url("incident-transition", pk, "void")}">'
        f"{_t('Void…')}</a>",
    )
    return (
        f'\n\n<div class="actions">\n  {edit}\n  {submit}\n  {close}\n'
        f'  <a class="button secondary" href="{url_of(pk, "incident-history")}">'
        f"{_t('History')}</a>\n  {export}\n  {void}\n</div>\n\n"
    )


def _review(page: _Page) -> str:
    if not page.can["review"]:
        return ""
    pk, csrf = page.pk, page.csrf
    return (
        '\n<section class="card review" aria-labelledby="review-h">\n'
        f'  <h2 id="review-h">{_t("Review")}</h2>\n  <div class="cards">\n'
        f'    <form method="post" action="{_url("incident-transition", pk, "return")}">{csrf}\n'
        '      <div class="field"><label for="return-comment">'
        f"{_t('What the author should add or correct')}</label>\n"
        '      <textarea id="return-comment" name="comment" rows="3" required></textarea></div>\n'
        f'      <button type="submit" class="secondary">{_t("Return to author")}</button>\n'
        "    </form>\n"
        f'    <form method="post" action="{_url("incident-transition", pk, "approve")}">{csrf}\n'
        '      <div class="field"><label for="approve-comment">'
        f"{_t('Approval comment (optional)')}</label>\n"
        '      <textarea id="approve-comment" name="comment" rows="3"></textarea></div>\n'
        f'      <button type="submit">{_t("Approve")}</button>\n'
        "    </form>\n  </div>\n</section>\n"
    )


def _or_dash(page: _Page, value) -> str:
    """`{{ value|default:"—" }}`."""
    return page.v(value) if value else "—"


def _report(page: _Page) -> str:
    incident, v, site = page.incident, page.v, page.site
    occurred = v(site_time(incident.occurred_from, site))
    if incident.occurred_to:
        occurred += f" – {v(site_time(incident.occurred_to, site))}"
    title = _if(incident.title, f"<dt>{_t('Title')}</dt><dd>{v(incident.title)}</dd>")
    narrative = linebreaksbr(incident.narrative, autoescape=True) or "—"
    actions = _if(
        incident.actions_taken,
        f'<h3>{_t("Actions taken")}</h3><div class="narrative">'
        f"{linebreaksbr(incident.actions_taken, autoescape=True)}</div>",
    )
    return (
        '\n\n<section aria-labelledby="details-h">\n'
        f'<h2 id="details-h">{_t("Report")}</h2>\n<dl class="facts">\n'
        f"  <dt>{_t('Category')}</dt><dd>{_or_dash(page, incident.category)}</dd>\n"
        f'  <dt>{_t("Severity")}</dt><dd><span class="sev sev-{v(incident.severity)}">'
        f"{page.choice(incident, 'severity')}</span></dd>\n"
        f"  <dt>{_t('Occurred')}</dt><dd>{occurred}</dd>\n"
        f"  <dt>{_t('Discovered')}</dt><dd>{v(site_time(incident.discovered_at, site))}</dd>\n"
        f"  <dt>{_t('Reported')}</dt><dd>{v(site_time(incident.reported_at, site))}</dd>\n"
        f"  {title}\n</dl>\n"
        f'<h3>{_t("What happened")}</h3>\n<div class="narrative">{narrative}</div>\n'
        f"{actions}\n{_police(page)}\n{_threat(page)}\n</section>\n"
    )


def _police(page: _Page) -> str:
    incident = page.incident
    if not incident.police_notified:
        return ""
    notified = page.v(site_time(incident.police_notified_at, page.site))
    return (
        f'\n<h3>{_t("Police")}</h3>\n<dl class="facts">'
        f"<dt>{_t('Agency')}</dt><dd>{_or_dash(page, incident.police_agency)}</dd>"
        f"<dt>{_t('Case number')}</dt><dd>{_or_dash(page, incident.police_case_number)}</dd>"
        f"<dt>{_t('Officer')}</dt><dd>{_or_dash(page, incident.police_officer)}</dd>"
        f"<dt>{_t('Notified at')}</dt><dd>{notified}</dd></dl>\n"
    )


def _threat(page: _Page) -> str:
    incident = page.incident
    if not incident.threat_channel:
        return ""
    return (
        f'\n<h3>{_t("Threat received")}</h3>\n<dl class="facts">'
        f"<dt>{_t('Arrived by')}</dt><dd>{page.choice(incident, 'threat_channel')}</dd>"
        f"<dt>{_t('Words used')}</dt>"
        f"<dd>{linebreaksbr(incident.threat_words, autoescape=True)}</dd>"
        f"<dt>{_t('Target')}</dt><dd>{_or_dash(page, incident.threat_target)}</dd></dl>\n"
    )


@register.simple_tag(takes_context=True)
def incident_page_top(context) -> SafeString:
    """The page above the procedure's checklist: heading, notes, actions, the review forms
    and the report."""
    page = _Page(context)
    html = _heading(page) + _notes(page) + _actions(page) + _review(page) + _report(page)
    return mark_safe(html)  # noqa: S308 - every value escaped (_Page.v, _esc, filters)
