"""`{% url %}` that remembers the URLs whose every part is written in the template.

`{% url 'area:dashboard' %}` gives the same path every time for the same URL configuration,
script prefix, language and current application: `reverse()` walks the resolver again on
each call (about 30 microseconds here, and the site's header alone has four). This tag is
Django's own (same parsing, same errors, same `as var`), registered as a built-in in
settings.TEMPLATES so that it takes the place of the default one; a `{% url %}` with a
variable, a filter or `as var` is left to Django's node unchanged. The URL configuration
does not change while a process runs, so nothing here is ever out of date: everything the
path depends on is in the key.
"""

from django import template
from django.template.base import Variable
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

register = template.Library()

MAX_KNOWN = 4096  # distinct (name, arguments, prefix, language, app) seen; then start over
_known: dict[tuple, str] = {}


def _literal(expression) -> bool:
    # A FilterExpression of a quoted string or a number holds the value itself.
    return not isinstance(expression.var, Variable) and not expression.filters


class KnownURLNode(URLNode):
    def render(self, context):
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        key = (
            self.view_name.var,
            tuple(arg.var for arg in self.args),
            tuple(sorted((name, value.var) for name, value in self.kwargs.items())),
            get_script_prefix(),
            get_urlconf(),
            get_language(),
            current_app,
            context.autoescape,
        )
        rendered = _known.get(key)
        if rendered is None:
            rendered = super().render(context)
            if len(_known) >= MAX_KNOWN:
                _known.clear()
            _known[key] = rendered
        return rendered


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    constant = (
        node.asvar is None
        and _literal(node.view_name)
        and all(_literal(arg) for arg in node.args)
        and all(_literal(value) for value in node.kwargs.values())
    )
    if not constant:
        return node
    return KnownURLNode(node.view_name, node.args, node.kwargs, None)
