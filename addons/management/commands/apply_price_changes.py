from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from addons.services import price_changes_apply


class Command(BaseCommand):
    help = (
        "Bring each tier's and add-on's current price to the one in effect today, from the "
        "scheduled price changes. Safe to run again; meant to run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the day to apply (YYYY-MM-DD); default: today")

    def handle(self, *args, **options):
        today = date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        updated = price_changes_apply(today=today)
        self.stdout.write(f"Prezzi aggiornati al {today:%d/%m/%Y}: {updated}")
