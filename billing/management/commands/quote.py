import json
import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from billing.catalogue import load_catalogue
from billing.pricing import PricingError
from billing.quotes import parse_request, price_request, quote_as_dict


class Command(BaseCommand):
    help = (
        "Price a purchase with the current catalogue and print it as JSON: an add-on during "
        "the term (--add), a renewal (--renew-years), a tier change (--to-tier) or a new "
        "mailbox (--years)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tier", required=True, help="standard, pro or premium")
        parser.add_argument("--expires", help="current expiry of the mailbox, YYYY-MM-DD")
        parser.add_argument("--today", help="the day of the purchase, YYYY-MM-DD (default: today)")
        parser.add_argument("--years", help="term of a new mailbox, 1-5 (instead of --expires)")
        parser.add_argument(
            "--has",
            action="append",
            default=[],
            metavar="CODE=QTY",
            help="an add-on the mailbox already holds (repeatable)",
        )
        parser.add_argument(
            "--add",
            action="append",
            default=[],
            metavar="CODE=QTY",
            help="an add-on bought now (repeatable)",
        )
        parser.add_argument(
            "--keep",
            action="append",
            default=[],
            metavar="CODE=QTY",
            help="at renewal: the lower quantity kept for the new term, 0 drops it",
        )
        parser.add_argument("--renew-years", help="renew for 1-5 years in the same order")
        parser.add_argument("--to-tier", help="change tier: now, or at the renewal with one")

    def handle(self, *args, **options):
        params = {
            "tier": [options["tier"]],
            "expires": [options["expires"]],
            "today": [options["today"]],
            "years": [options["years"]],
            "renew_years": [options["renew_years"]],
            "to_tier": [options["to_tier"]],
            "has": options["has"],
            "add": options["add"],
            "keep": options["keep"],
        }
        try:
            request = parse_request(params, default_today=timezone.localdate())
            quote = price_request(load_catalogue(request.today), request)
        except PricingError as error:
            self.stderr.write(f"Errore: {error.message}")
            sys.exit(2)
        self.stdout.write(json.dumps(quote_as_dict(quote), ensure_ascii=False))
