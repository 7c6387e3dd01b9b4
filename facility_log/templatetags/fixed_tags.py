"""`{% fixed %}…{% endfixed %}`: a fragment that writes the same text for every request in one
language, rendered once per language (and script prefix, URLconf, autoescape setting) and then
reused. base.html, which every page renders, keeps its links, labels and static files this
way, and so do the detail pages (docs/performance.md). Only text, literal translations, URLs
and static files of literals, and includes made of these are accepted: anything that could
vary by reader is refused when the fragment is first rendered."""

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.base import TextNode, Variable
from django.template.defaulttags import CommentNode, LoadNode, URLNode
from django.template.loader_tags import IncludeNode
from django.templatetags.i18n import TranslateNode
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# Off in the tests that compare the kept fragments with the same nodes rendered every time.
KEEP_FIXED = True

# Bumped when a setting changes (only tests change settings while the process runs: a static
# URL, the storage's manifest or the URLconf could then write other text).
_settings_generation = 0


def _forget_kept(**_kwargs) -> None:
    global _settings_generation
    _settings_generation += 1


setting_changed.connect(_forget_kept, dispatch_uid="fixed_tags_forget_kept")


def _constant(expression) -> bool:
    """A filter expression that is a literal (a quoted string or a number), with no filter:
    its value cannot depend on the context."""
    if expression.filters:
        return False
    var = expression.var
    return not isinstance(var, Variable) or var.literal is not None


def _fixed_node(node, engine) -> bool:
    """Whether `node` writes the same text for every request in one language: plain text,
    `{% translate "…" %}`, `{% url 'name' … %}` and `{% static '…' %}` of literals, comments,
    `{% load %}`, another `{% fixed %}`, and the include of a template (by a literal name, with
    nothing added to its context) made of these alone."""
    if isinstance(node, (TextNode, CommentNode, LoadNode)):
        return True
    if isinstance(node, TranslateNode):
        literal = node.message_context is None or _constant(node.message_context)
        return node.asvar is None and literal and _constant(node.filter_expression)
    if isinstance(node, URLNode):
        expressions = [node.view_name, *node.args, *node.kwargs.values()]
        return node.asvar is None and all(_constant(e) for e in expressions)
    if isinstance(node, StaticNode):
        return node.varname is None and _constant(node.path)
    if isinstance(node, FixedNode):  # an include that keeps its own fragment
        return _fixed_nodes(node.nodelist, engine)
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
            _settings_generation,
        )
        html = self.kept.get(key)
        if html is None:
            if not self.checked:
                if not _fixed_nodes(self.nodelist, context.template.engine):
                    raise template.TemplateSyntaxError(
                        "{% fixed %} holds only text, literal translations, URLs, static files"
                        " and includes."
                    )
                self.checked = True
            html = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered by nodes
            if len(self.kept) > 64:  # settings changed many times (tests): drop the old ones
                self.kept.clear()
            self.kept[key] = html
        return html


@register.tag
def fixed(parser, token) -> FixedNode:
    """`{% fixed %}…{% endfixed %}` (FixedNode)."""
    nodelist = parser.parse(("endfixed",))
    parser.delete_first_token()
    return FixedNode(nodelist)
