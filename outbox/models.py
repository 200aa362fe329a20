"""E-mails waiting to go out, written in the transaction of the change they tell about.

Every e-mail of the shop is first a row here, holding the message as it was rendered
(subject, text body, optional HTML alternative, attachments or a reference to regenerate
them, recipients). A task sends it after commit; the sweep on beat sends whatever the broker
did not take. A row is claimed with a conditional UPDATE before it is sent, so two senders
never send it twice.
"""

from django.db import models
from django.db.models import Q


class EmailStatus(models.TextChoices):
    PENDING = "pending", "da inviare"
    SENDING = "sending", "in invio"
    SENT = "sent", "inviata"
    FAILED = "failed", "non riuscita, da ritentare"


class OutboundEmail(models.Model):
    # Set when the same e-mail must never be written twice (an order's "paid" e-mail).
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    subject = models.TextField()
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    from_email = models.CharField(max_length=320)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # [{"filename", "mimetype", "content_b64"}] or [{"filename", "mimetype", "source", "ref"}]
    # where `source` names a registered generator (outbox.attachments) called with `ref`.
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "e-mail in uscita"
        verbose_name_plural = "e-mail in uscita"
        indexes = [models.Index(fields=["status", "created_at"], name="outbox_email_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EmailStatus.values), name="outbox_email_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=EmailStatus.SENT) | Q(sent_at__isnull=True),
                name="outbox_email_sent_at_only_when_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} -> {', '.join(self.to)} ({self.get_status_display()})"
