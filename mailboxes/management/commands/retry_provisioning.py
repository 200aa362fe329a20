from django.core.management.base import BaseCommand

from mailboxes.services import provisioning_retry_pending


class Command(BaseCommand):
    help = "Run again the mail-platform calls that failed or were never run."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=5, help="minutes (default 5)")
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **options):
        done = provisioning_retry_pending(
            older_than_minutes=options["older_than"], limit=options["limit"]
        )
        self.stdout.write(f"{done} chiamate eseguite.")
