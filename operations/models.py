"""What running the shop needs to remember: the nightly lifecycle runs."""

import uuid

from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    RUNNING = "running", "in corso"
    DONE = "done", "completata"
    FAILED = "failed", "non riuscita"


class LifecycleRun(models.Model):
    """One run of the lifecycle day (beat at night, or by hand): its id is in every log
    line of the run, its steps and counts are kept, and the health check reads the age of
    the last completed one."""

    run_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    day = models.DateField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # [{"step": name, "counts": {...}, "seconds": 1.2}, ...] in the order they ran
    steps = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "esecuzione del ciclo di vita"
        verbose_name_plural = "esecuzioni del ciclo di vita"
        indexes = [models.Index(fields=["status", "finished_at"], name="lifecycle_run_done")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="lifecycle_run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=RunStatus.RUNNING) | Q(finished_at__isnull=False),
                name="lifecycle_run_finished_when_over",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_status_display()} ({self.run_id})"
