from django.core.management.base import BaseCommand

from billing.sdi.services import sdi_send_pending


class Command(BaseCommand):
    help = "Send to the SDI the documents still queued (failed or never sent); safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=0, help="minutes in the queue (default 0)"
        )
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **options):
        counts = sdi_send_pending(older_than_minutes=options["older_than"], limit=options["limit"])
        for outcome, count in sorted(counts.items()):
            self.stdout.write(f"{outcome}: {count}")
