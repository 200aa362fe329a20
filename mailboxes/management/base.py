"""What the lifecycle commands share: `--today YYYY-MM-DD` (default: today in Europe/Rome),
`--batch-size`, and one line per job with what it did."""

import argparse
from datetime import date, datetime

from django.core.management.base import BaseCommand
from django.utils import timezone


def day_argument(value: str) -> date:
    """A strict YYYY-MM-DD; argparse turns the error into a CommandError (no traceback)."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"data non valida «{value}»: usa il formato AAAA-MM-GG, per esempio 2026-11-25"
        ) from None


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"«{value}» non è un numero intero positivo")
    return number


def describe(counts: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items()) or "niente da fare"


class DailyJobCommand(BaseCommand):
    """A lifecycle job for one day: subclasses say which (`run`)."""

    with_batch_size = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=day_argument,
            help="the day to run, YYYY-MM-DD (default: today in Europe/Rome)",
        )
        if self.with_batch_size:
            parser.add_argument(
                "--batch-size",
                type=positive_int,
                default=5000,
                help="mailboxes per transaction (default 5000)",
            )

    def run(self, *, today: date, options: dict) -> dict:
        raise NotImplementedError

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()
        counts = self.run(today=today, options=options)
        self.stdout.write(f"{today.isoformat()}: {describe(counts)}")
