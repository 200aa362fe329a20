"""How each e-mail of the shop is built: a plain-text body and an HTML alternative, both
rendered from `templates/emails/<name>.txt` and `templates/emails/<name>.html` with the
same context. Sending stays with the caller (`message.send()` or a batch connection)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def email_build(
    name: str, context: dict, *, subject: str, to: list[str], **kwargs
) -> EmailMultiAlternatives:
    """The message `name` for `to`: text first (read by every client), HTML as the
    alternative. Links in both are absolute, on SITE_URL."""
    context = {"site_url": settings.SITE_URL, **context, "subject": subject}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}.txt", context),
        to=to,
        **kwargs,
    )
    message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    return message
