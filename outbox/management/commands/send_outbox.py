from django.core.management.base import BaseCommand

from outbox.services import outbox_sweep


class Command(BaseCommand):
    help = (
        "Send the e-mails waiting in the outbox (pending for over a minute, failed and due, "
        "or claimed by a sender that died). Each e-mail is sent once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **options):
        counts = outbox_sweep(limit=options["limit"])
        self.stdout.write(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nulla")
