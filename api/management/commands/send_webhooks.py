from django.core.management.base import BaseCommand
from django.utils import timezone

from api.webhooks import webhooks_collect, webhooks_send_due


class Command(BaseCommand):
    help = "Collect the lifecycle events for webhooks and send the deliveries that are due."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the day (YYYY-MM-DD), for reruns and tests")

    def handle(self, *args, **options):
        from datetime import date

        today = date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        counts = {**webhooks_collect(today=today), **webhooks_send_due()}
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
