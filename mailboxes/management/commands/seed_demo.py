from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from addons.models import AddOn, Tier
from customers.models import Customer, Holder, HolderKind
from customers.services import customer_create, holder_create
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.services import (
    mailbox_activate,
    mailbox_create,
    mailbox_set_usage,
    mailbox_transition,
)

DEMO_EMAIL = "demo@pecshop.example"
DEMO_PASSWORD = "DemoPec-2026"
MAILBOX_PASSWORD = "CasellaDemo-2026"

OWN_HOLDER = {
    "kind": HolderKind.PERSON,
    "first_name": "Mario",
    "last_name": "Rossi",
    "fiscal_code": "RSSMRA85T10A562S",
    "street": "Via Roma 1",
    "postal_code": "00184",
    "city": "Roma",
    "province": "RM",
    "email": DEMO_EMAIL,
}
COMPANY_HOLDER = {
    "kind": HolderKind.COMPANY,
    "company_name": "Bianchi Costruzioni S.r.l.",
    "vat_number": "00743110157",
    "fiscal_code": "00743110157",
    "legal_representative": "Laura Bianchi",
    "street": "Corso Buenos Aires 10",
    "postal_code": "20124",
    "city": "Milano",
    "province": "MI",
    "email": "amministrazione@bianchi.example",
    "sdi_code": "M5UXCR1",
}


class Command(BaseCommand):
    help = (
        "Create the demo customer with mailboxes of every tier and state. Safe to run again: "
        "what exists already is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the day the demo is built around (YYYY-MM-DD)")

    def handle(self, *args, **options):
        today = date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        with transaction.atomic():
            customer, created = self._customer()
            if created:
                self._mailboxes(customer, today)
        state = "creato" if created else "già presente"
        self.stdout.write(
            f"Cliente demo {state}: {DEMO_EMAIL} / {DEMO_PASSWORD} "
            f"({Mailbox.objects.filter(customer=customer).count()} caselle; password di ogni "
            f"casella: {MAILBOX_PASSWORD})"
        )

    def _customer(self) -> tuple[Customer, bool]:
        existing = Customer.objects.filter(user__username=DEMO_EMAIL).first()
        if existing:
            return existing, False
        customer = customer_create(email=DEMO_EMAIL, password=DEMO_PASSWORD, validate=False)
        holder_create(customer=customer, own=True, **OWN_HOLDER)
        holder_create(customer=customer, **COMPANY_HOLDER)
        return customer, True

    def _mailboxes(self, customer: Customer, today: date) -> None:
        tiers = {t.code: t for t in Tier.objects.all()}
        addons = {a.code: a for a in AddOn.objects.all()}
        own = customer.own_holder
        company = Holder.objects.get(customer=customer, vat_number=COMPANY_HOLDER["vat_number"])

        def active(address, tier, holder, activated_on, years, extras, usage):
            mailbox = mailbox_create(
                address=address,
                tier=tiers[tier],
                holder=holder,
                customer=customer,
                term_years=years,
                addons={addons[code]: qty for code, qty in extras.items()},
                password=MAILBOX_PASSWORD,
                reason="dati dimostrativi",
            )
            mailbox = mailbox_activate(
                mailbox=mailbox, activated_on=activated_on, reason="dati dimostrativi"
            )
            return mailbox_set_usage(
                mailbox=mailbox,
                mailbox_mb=usage[0],
                archive_mb=usage[1],
                conservation_mb=usage[2],
                at=timezone.now(),
            )

        half_year_ago = today - relativedelta(months=6)
        active("mario.rossi@pec.it", "pro", own, half_year_ago, 1, {}, (1500, 2000, 0))
        active(
            "studio.rossi@pec.it",
            "standard",
            own,
            today - relativedelta(months=2),
            2,
            {"SMS": 1, "CONSERVAZIONE": 2},
            (700, 0, 900),
        )
        active(
            "amministrazione@pec.it",
            "premium",
            company,
            today - relativedelta(months=3),
            3,
            {"MULTIUTENTE": 2, "ARCHIVIO": 5, "SPAZIO": 3},
            (3900, 9000, 0),
        )
        soon = today + timedelta(days=18)
        active(
            "scade.presto@pec.it",
            "standard",
            own,
            soon - relativedelta(years=1),
            1,
            {"SPAZIO": 1},
            (1900, 0, 0),
        )
        expired_on = today - timedelta(days=30)
        lapsed = active(
            "scaduta.rossi@pec.it",
            "pro",
            own,
            expired_on - relativedelta(years=1),
            1,
            {"CONSERVAZIONE": 5},
            (400, 300, 3000),
        )
        mailbox_transition(
            mailbox=lapsed,
            to_status=MailboxStatus.EXPIRED,
            today=expired_on,
            reason="dati dimostrativi",
        )
