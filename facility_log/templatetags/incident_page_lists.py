"""The incident page below the procedure's checklist (`{% incident_page_rest %}`): persons,
vehicles, property, the add forms, attachments, the supplement and correction forms, the
timeline and what happened around the incident, written in one pass as incident_page_body
writes the part above it (its module docstring says how values and messages are written)."""

from django import template
from django.template.defaultfilters import filesizeformat, linebreaksbr, truncatechars
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_noop

from facility_log.templatetags.facility_log_tags import _t, site_time, url_of
from facility_log.templatetags.incident_page_body import _TIMES, _Page, _url
from facility_log.templatetags.incident_page_tags import surroundings_rows, timeline_items

register = template.Library()

# The messages written inside f-strings below, marked for makemessages: xgettext does
# not read the expressions of an f-string (the management command `makemessages` adds
# `_t` and `bt` as keywords for the rest).
_MARKED = (
    gettext_noop("Vehicles"),
    gettext_noop("Property"),
    gettext_noop("None recorded."),
    gettext_noop("Persons involved"),
    gettext_noop("Add a photo or file"),
    gettext_noop("Upload"),
    gettext_noop("No attachments."),
    gettext_noop("Attachments"),
    gettext_noop("Add a supplement"),
    gettext_noop("Add supplement"),
    gettext_noop("Correct %(label)s"),
    gettext_noop("Correct a field"),
    gettext_noop("When"),
    gettext_noop("What"),
    gettext_noop("Where"),
    gettext_noop("Details"),
    gettext_noop("Nothing recorded by the doors or the rounds in that window."),
    gettext_noop("Around this incident"),
    gettext_noop("Door events and round scans"),
    gettext_noop("from 30 minutes before to 30 minutes after it"),
    gettext_noop("Timeline"),
)


def _person(page: _Page, person) -> str:
    v = page.v
    name = v(person.name) if person.name else _t("(name not given)")
    description = f" – {v(person.description)}" if person.description else ""
    contact = f" · {v(person.contact)}" if person.contact else ""
    statement = ""
    if person.statement:
        statement = f"<blockquote>{linebreaksbr(person.statement, autoescape=True)}</blockquote>"
    return (
        f"<li><strong>{page.choice(person, 'role')}</strong>: {name}{description}{contact}"
        f"{statement}</li>"
    )


def _people_and_things(page: _Page) -> str:
    context, v = page.context, page.v
    persons = "".join(_person(page, p) for p in context["persons"])
    vehicles = context["vehicles"]
    if vehicles:
        rows = "".join(
            f"<li>{v(x.registration)} {v(x.make_model)} {v(x.colour)} {v(x.description)}</li>"
            for x in vehicles
        )
        vehicles = f'<h3>{_t("Vehicles")}</h3><ul class="plain">{rows}</ul>'
    items = context["property_items"]
    if items:
        rows = "".join(
            f"<li>{page.choice(p, 'kind')}: {v(p.description)}"
            f"{f' ({v(p.value)})' if p.value else ''}</li>"
            for p in items
        )
        items = f'<h3>{_t("Property")}</h3><ul class="plain">{rows}</ul>'
    persons = persons or f"<li>{_t('None recorded.')}</li>"
    return (
        '\n\n<section id="persons" aria-labelledby="persons-h">\n'
        f'<h2 id="persons-h">{_t("Persons involved")}</h2>\n'
        f'<ul class="plain">{persons}</ul>\n'
        f"{vehicles or ''}\n{items or ''}\n{_add_forms(page)}\n</section>\n"
    )


def _add_forms(page: _Page) -> str:
    if not page.can["edit"]:
        return ""
    forms = "".join(
        f"\n<details><summary>{page.v(title)}</summary>\n"
        f'<form method="post" action="{_url("incident-add-item", page.pk, kind)}">'
        f"{page.csrf}\n  {page.v(form)}\n"
        f'  <button type="submit">{page.v(title)}</button>\n</form>\n</details>\n'
        for kind, title, form in page.context["add_forms"]
    )
    return f"\n{forms}\n"


def _attachment(page: _Page, a) -> str:
    v, url = page.v, url_of(a.pk, "attachment-download")
    image = ""
    if a.is_image:
        image = f'<img src="{url}" alt="{v(a.description or a.original_name)}" width="160">'
    about = page.bt(
        "%(content_type)s · %(size)s · SHA-256",
        content_type=a.content_type,
        size=filesizeformat(a.size),
    )
    copy = ""
    if a.redacted_from_id:
        copy = " " + page.bt(
            "· redacted copy of #%(redacted_from_id)s", redacted_from_id=a.redacted_from_id
        )
    return (
        f"\n  <li>\n    {image}\n"
        f'    <a href="{url}">{v(a.original_name)}</a>\n'
        f'    <span class="help">{about} <code>{v(truncatechars(a.sha256, 17))}</code>{copy}'
        "</span>\n  </li>\n"
    )


def _attachments(page: _Page) -> str:
    rows = "".join(_attachment(page, a) for a in page.context["attachments"])
    form = ""
    if page.can["attach"]:
        form = (
            f'\n<details id="attach"><summary>{_t("Add a photo or file")}</summary>\n'
            '<form method="post" enctype="multipart/form-data" '
            f'action="{url_of(page.pk, "incident-attach")}">{page.csrf}\n'
            f"  {page.v(page.context['attachment_form'])}\n"
            f'  <button type="submit">{_t("Upload")}</button>\n</form>\n</details>\n'
        )
    rows = rows or f"<li>{_t('No attachments.')}</li>"
    return (
        '\n<section id="attachments" aria-labelledby="att-h">\n'
        f'<h2 id="att-h">{_t("Attachments")}</h2>\n<ul class="attachments">\n'
        f"{rows}\n</ul>\n{form}\n</section>\n"
    )


def _supplement(page: _Page) -> str:
    if not page.can["supplement"]:
        return ""
    return (
        '\n<section id="supplement" class="card" aria-labelledby="sup-h">\n'
        f'<h2 id="sup-h">{_t("Add a supplement")}</h2>\n<p class="help">'
        + _t(
            "What was submitted stays as it is; a supplement adds to it with your name, the "
            "time and why."
        )
        + "</p>\n"
        f'<form method="post" action="{url_of(page.pk, "incident-supplement")}">{page.csrf}\n'
        f"  {page.v(page.context['supplement_form'])}\n"
        f'  <button type="submit">{_t("Add supplement")}</button>\n</form>\n</section>\n'
    )


def _now(page: _Page, name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if name in _TIMES:
        return page.v(site_time(value, page.site))
    return page.v(value)


def _correct(page: _Page) -> str:
    if not page.can["correct"]:
        return ""
    now = _t("now:")
    rows = "".join(
        f'<li><a href="{page.v(url)}">{page.bt("Correct %(label)s", label=label)}</a> '
        f'<span class="help">{now} {_now(page, name, value)}</span></li>'
        for name, label, value, url in page.context["correctable"]
    )
    return (
        f'\n<details id="correct"><summary>{_t("Correct a field")}</summary>\n<p class="help">'
        + _t(
            "The narrative is never changed; other fields can be corrected with a reason, "
            "kept in the history."
        )
        + f'</p>\n<ul class="plain correctable">\n{rows}\n</ul>\n</details>\n'
    )


def _around(page: _Page) -> str:
    incident, context = page.incident, page.context
    where = _t("at this site")
    if incident.zone:
        where = page.bt("in %(name)s", name=incident.zone.name)
    linked = _t(", and the events it was opened from") if context["sources"] else ""
    surroundings = context["surroundings"]
    if surroundings:
        table = (
            '\n<div class="table-wrap"><table>\n'
            f'  <thead><tr><th scope="col">{_t("When")}</th><th scope="col">{_t("What")}</th>'
            f'<th scope="col">{_t("Where")}</th><th scope="col">{_t("Details")}</th></tr>'
            "</thead>\n  <tbody>\n"
            f"  {surroundings_rows(surroundings, page.site)}\n  </tbody>\n</table></div>\n"
        )
    else:
        table = f"<p>{_t('Nothing recorded by the doors or the rounds in that window.')}</p>"
    return (
        '<section aria-labelledby="around-h">\n'
        f'<h2 id="around-h">{_t("Around this incident")}</h2>\n'
        f'<p class="help">{_t("Door events and round scans")} {where} '
        f"{_t('from 30 minutes before to 30 minutes after it')}{linked}.</p>\n"
        f"{table}\n</section>\n"
    )


def _timeline(page: _Page) -> str:
    return (
        '\n<section aria-labelledby="timeline-h">\n'
        f'<h2 id="timeline-h">{_t("Timeline")}</h2>\n<ol class="timeline">\n'
        f"{timeline_items(page.context['timeline'], page.site)}\n</ol>\n</section>\n"
    )


@register.simple_tag(takes_context=True)
def incident_page_rest(context) -> SafeString:
    """The page below the procedure's checklist (see the module docstring)."""
    page = _Page(context)
    html = (
        _people_and_things(page)
        + _attachments(page)
        + "\n"
        + _supplement(page)
        + "\n\n"
        + _correct(page)
        + "\n"
        + _timeline(page)
        + _around(page)
    )
    return mark_safe(html)  # noqa: S308 - every value escaped (_Page.v, _esc, filters)
