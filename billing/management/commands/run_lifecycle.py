from django.utils import timezone

from billing.lifecycle import run_lifecycle
from mailboxes.management.base import DailyJobCommand, describe


class Command(DailyJobCommand):
    help = (
        "Run the whole lifecycle day in order: scheduled changes, automatic renewals, expiries, "
        "end of grace, unpaid orders, reminders, usage alerts, provisioning retries. Safe to "
        "run again for the same day."
    )

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()

        def report(name, counts, seconds):
            self.stdout.write(f"{today.isoformat()} {name}: {describe(counts)} ({seconds:.1f} s)")

        run_lifecycle(today=today, batch_size=options["batch_size"], report=report)
