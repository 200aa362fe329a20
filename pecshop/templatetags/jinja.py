"""`{% jinja "name.html" key=value ... %}`: a Jinja2 template (templates/jinja2/) rendered in
place, with only the values given. For the loops over many rows, where each value the
Django template language prints costs several times what it costs in Jinja2."""

from django import template
from django.template import engines
from django.utils.safestring import mark_safe
from jinja2 import Environment, StrictUndefined

register = template.Library()


def environment(**options) -> Environment:
    """The Jinja2 environment: every value escaped, a misspelt name an error (not an empty
    string)."""
    options.pop("autoescape", None)
    options["undefined"] = StrictUndefined
    return Environment(autoescape=True, **options)


@register.simple_tag
def jinja(template_name: str, **context) -> str:
    # Jinja2 escaped every value it printed (autoescape, as in Django templates).
    return mark_safe(engines["jinja2"].get_template(template_name).render(context))  # noqa: S308
