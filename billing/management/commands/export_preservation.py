from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.money import format_eur
from billing.sdi.preservation import parse_month, preservation_export


class Command(BaseCommand):
    help = (
        "Write the month's package for the conservatore: the FatturaPA files sent to the SDI "
        "for the documents dated in the month, their receipts and indice.csv, in one ZIP."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="AAAA-MM, e.g. 2026-11")
        parser.add_argument(
            "--output", help="the ZIP to write (default: conservazione-AAAA-MM.zip here)"
        )

    def handle(self, *args, **options):
        try:
            month = parse_month(options["month"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        export = preservation_export(month=month)
        target = Path(options["output"] or export.filename)
        try:
            target.write_bytes(export.content)
        except OSError as error:
            raise CommandError(f"{target}: {error}") from None
        self.stdout.write(
            f"{target}: {export.documents} documenti, {export.files} file inviati, "
            f"{export.receipts} ricevute; totale {format_eur(export.total)}"
        )
