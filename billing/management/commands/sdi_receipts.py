from django.core.management.base import BaseCommand, CommandError

from billing.sdi.channels import SdiChannelError
from billing.sdi.services import sdi_receipts_read


class Command(BaseCommand):
    help = (
        "Read the SDI's receipts from the configured channel (SDI_CHANNEL): apply RC, MC and "
        "NS to their documents, keep and flag anything else. Safe to run again."
    )

    def handle(self, *args, **options):
        try:
            counts = sdi_receipts_read()
        except SdiChannelError as error:
            raise CommandError(f"canale SdI non raggiungibile: {error}") from error
        if not counts:
            self.stdout.write("Nessuna ricevuta nuova.")
        for outcome, count in sorted(counts.items()):
            self.stdout.write(f"{outcome}: {count}")
