from django import template

from customers.security import has_two_factor

register = template.Library()


@register.inclusion_tag("area/_two_factor_nudge.html")
def two_factor_nudge(user):
    """Encourages an account without a second factor to switch it on."""
    show = bool(getattr(user, "is_authenticated", False)) and not has_two_factor(
        user, as_loaded=True
    )
    return {"show": show}
