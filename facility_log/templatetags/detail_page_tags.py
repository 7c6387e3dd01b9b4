"""What the detail pages (an alarm, a shift's report, an incident) write without a template
node per word: fixed fragments rendered once per language and kept, and the rows of their
short lists written in one pass, the same markup as the template loops they replace, every
value escaped as the template escaped it (docs/performance.md)."""

from django import template
from django.conf import settings
from django.template.base import TextNode, Variable
from django.template.defaulttags import CommentNode, LoadNode, URLNode
from django.template.loader_tags import IncludeNode
from django.templatetags.i18n import TranslateNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from facility_log.templatetags.facility_log_tags import (
    _blocktranslate,
    _esc,
    _t,
    site_time,
    url_of,
)

register = template.Library()

# Off in the tests that compare the kept fragments with the same nodes rendered every time.
KEEP_FIXED = True


def _constant(expression) -> bool:
    """A filter expression that is a literal (a quoted string or a number), with no filter:
    its value cannot depend on the context."""
    if expression.filters:
        return False
    var = expression.var
    return not isinstance(var, Variable) or var.literal is not None


def _fixed_node(node, engine) -> bool:
    """Whether `node` writes the same text for every request in one language: plain text,
    `{% translate "…" %}` and `{% url 'name' … %}` of literals, comments, `{% load %}`, and
    the include of a template (by a literal name, with nothing added to its context) made of
    these alone."""
    if isinstance(node, (TextNode, CommentNode, LoadNode)):
        return True
    if isinstance(node, TranslateNode):
        literal = node.message_context is None or _constant(node.message_context)
        return node.asvar is None and literal and _constant(node.filter_expression)
    if isinstance(node, URLNode):
        expressions = [node.view_name, *node.args, *node.kwargs.values()]
        return node.asvar is None and all(_constant(e) for e in expressions)
    if isinstance(node, IncludeNode):
        if node.extra_context or not _constant(node.template):
            return False
        included = engine.get_template(node.template.var)
        return _fixed_nodes(included.nodelist, engine)
    return False


def _fixed_nodes(nodelist, engine) -> bool:
    return all(_fixed_node(node, engine) for node in nodelist)


class FixedNode(template.Node):
    """`{% fixed %}…{% endfixed %}`: its content rendered once per language, script prefix,
    URLconf and autoescape setting, then reused. Only content that cannot vary otherwise is
    accepted (`_fixed_node`); anything else is an error when the fragment is first rendered,
    so a variable added inside one later cannot be kept for every reader."""

    def __init__(self, nodelist):
        self.nodelist = nodelist
        self.kept: dict[tuple, SafeString] = {}
        self.checked = False

    def render(self, context) -> SafeString:
        if not KEEP_FIXED:
            return self.nodelist.render(context)
        key = (
            get_language(),
            get_script_prefix(),
            get_urlconf() or settings.ROOT_URLCONF,
            context.autoescape,
        )
        html = self.kept.get(key)
        if html is None:
            if not self.checked:
                if not _fixed_nodes(self.nodelist, context.template.engine):
                    raise template.TemplateSyntaxError(
                        "{% fixed %} holds only text, literal translations, URLs and includes."
                    )
                self.checked = True
            html = self.kept[key] = mark_safe(self.nodelist.render(context))  # noqa: S308
        return html


@register.tag
def fixed(parser, token) -> FixedNode:
    """`{% fixed %}…{% endfixed %}` (FixedNode)."""
    nodelist = parser.parse(("endfixed",))
    parser.delete_first_token()
    return FixedNode(nodelist)


# --- the rows of a daily activity report (shifts/_runs.html, shifts/_incidents.html) -------


def _run_row(line, site) -> str:
    finished = site_time(line.finished_at, site) if line.finished_at else _t("not finished")
    exceptions = "<br>".join(map(_esc, line.exceptions)) or _esc(_t("none"))
    counts = _blocktranslate(
        "%(scanned)s of %(planned)s", scanned=line.scanned, planned=line.planned
    )
    return (
        f"\n  <tr><td>{_esc(line.route_name)}</td><td>{_esc(line.guard_name)}</td>"
        f"<td>{_esc(site_time(line.started_at, site))}</td>\n"
        f"      <td>{_esc(finished)}</td>\n"
        f"      <td>{counts}</td>\n"
        f"      <td>{exceptions}</td></tr>\n  "
    )


@register.simple_tag
def run_lines(runs, site) -> SafeString:
    """`<tr>` per round walked (activity_report.RunLine): route, guard, times, stops scanned
    of those planned, exceptions."""
    return mark_safe("".join(_run_row(line, site) for line in runs))  # noqa: S308 - escaped


def _incident_row(line, site, pdf) -> str:
    label = _esc(line.label)
    if not pdf:
        label = f'<a href="{_esc(url_of(line.incident.pk, "incident-page"))}">{label}</a>'
    return (
        f"\n  <tr><td>{label}</td>\n"
        f"      <td>{_esc(site_time(line.occurred_at, site))}</td><td>{_esc(line.category)}</td>\n"
        f'      <td><span class="sev sev-{_esc(line.incident.severity)}">{_esc(line.severity)}'
        f"</span></td><td>{_esc(line.status)}</td><td>{_esc(line.summary)}</td></tr>\n  "
    )


@register.simple_tag
def incident_lines(incidents, site, pdf) -> SafeString:
    """`<tr>` per incident of a report (activity_report.IncidentLine), its number linked to
    its page unless `pdf`."""
    rows = (_incident_row(line, site, pdf) for line in incidents)
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped above
