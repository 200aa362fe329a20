from django.core.management.base import BaseCommand, CommandError

from billing.lifecycle import invariant_violations
from mailboxes.management.base import day_argument, positive_int


class Command(BaseCommand):
    help = (
        "Check the invariants of mailboxes, add-ons, orders, payments and invoices; list each "
        "violation and exit non-zero if there is any. With --today, also check what the day's "
        "lifecycle job must have done (no active mailbox at or past its expiry, no expired "
        "mailbox past its grace period)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today", type=day_argument, help="the day whose lifecycle job has run, YYYY-MM-DD"
        )
        parser.add_argument(
            "--limit", type=positive_int, default=100, help="violations listed per kind"
        )

    def handle(self, *args, **options):
        violations = invariant_violations(today=options["today"], limit=options["limit"])
        for line in violations:
            self.stderr.write(line)
        if violations:
            raise CommandError(f"{len(violations)} violazioni degli invarianti.")
        self.stdout.write("Invarianti rispettati.")
