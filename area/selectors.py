"""Reads for the Area Clienti, always scoped to one customer (or one mailbox)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet

from billing.catalogue_cache import current_catalogue
from billing.pricing import QUOTA_LABELS, AddOnInfo, Catalogue, quota_gb
from customers.models import Customer
from mailboxes.models import AddOnStatus, Mailbox, MailboxAddOn, MailboxStatus
from mailboxes.terms import MB_PER_GB

PAGE_SIZE = 20
EXPIRING_DAYS = 30
HELD = [AddOnStatus.ACTIVE, AddOnStatus.EXPIRED]


@dataclass(frozen=True)
class UsageBar:
    label: str
    used_mb: int
    quota_gb: int

    @property
    def percent(self) -> int:
        if not self.quota_gb:
            return 100 if self.used_mb else 0
        return min(100, round(self.used_mb * 100 / (self.quota_gb * MB_PER_GB)))

    @property
    def level(self) -> str:
        """ "ok", "warn" from 70%, "danger" from 90% (the alert thresholds)."""
        if self.percent >= 90:
            return "danger"
        return "warn" if self.percent >= 70 else "ok"

    @property
    def used_gb(self) -> str:
        return f"{self.used_mb / MB_PER_GB:.1f}".replace(".", ",")


@dataclass(frozen=True)
class MailboxRow:
    mailbox: Mailbox
    holdings: dict[str, int]
    usage: list[UsageBar]
    expiring: bool
    expired: bool


def usage_bars(catalogue: Catalogue, mailbox: Mailbox, holdings: dict[str, int]) -> list[UsageBar]:
    bars = []
    for quota, label in QUOTA_LABELS.items():
        limit = quota_gb(catalogue, mailbox.tier.code, holdings, quota)
        used = getattr(mailbox, f"usage_{quota}_mb")
        if limit or used:
            bars.append(UsageBar(label.removeprefix("della ").removeprefix("dell'"), used, limit))
    return bars


def _holdings(mailbox: Mailbox) -> dict[str, int]:
    # Uses the prefetched add-ons: no query per mailbox.
    return {a.addon.code: a.quantity for a in mailbox.addons.all() if a.status in HELD}


def row(catalogue: Catalogue, mailbox: Mailbox, today: date) -> MailboxRow:
    holdings = _holdings(mailbox)
    expiring = bool(
        mailbox.status == MailboxStatus.ACTIVE
        and mailbox.expires_on
        and mailbox.expires_on <= today + timedelta(days=EXPIRING_DAYS)
    )
    return MailboxRow(
        mailbox=mailbox,
        holdings=holdings,
        usage=usage_bars(catalogue, mailbox, holdings),
        expiring=expiring,
        expired=mailbox.status == MailboxStatus.EXPIRED,
    )


@dataclass(frozen=True)
class AddOnRow:
    """One line of a mailbox's services: included by the tier, bought, and what is next."""

    name: str
    included: int
    bought: int
    sold: bool
    max_quantity: int
    next_quantity: int | None
    addon: AddOnInfo

    def amount(self, quantity: int) -> str:
        """A quantity as the page shows it: "5 GB", "3 utenti", "sì" for a service."""
        if not quantity:
            return "—"
        return "sì" if self.addon.unit == "SERVICE" else self.addon.units(quantity)

    @property
    def included_label(self) -> str:
        return self.amount(self.included)

    @property
    def bought_label(self) -> str:
        return self.amount(self.bought)

    @property
    def next_label(self) -> str:
        return "nessuno" if self.next_quantity == 0 else self.amount(self.next_quantity or 0)

    @property
    def sold_label(self) -> str:
        """What more may be bought: "fino a 100 GB", or "acquistabile" for a service."""
        if self.addon.unit == "SERVICE":
            return "acquistabile"
        return f"fino a {self.amount(self.max_quantity)}"


def addon_rows(catalogue: Catalogue, mailbox: Mailbox, holdings: dict[str, int]) -> list[AddOnRow]:
    """Every add-on the tier includes, sells, or the mailbox holds (prefetched add-ons)."""
    scheduled = {
        a.addon.code: a.next_quantity for a in mailbox.addons.all() if a.next_quantity is not None
    }
    rows = []
    for code in catalogue.ordered(catalogue.addons):
        rule = catalogue.rule(mailbox.tier.code, code)
        bought = holdings.get(code, 0)
        if rule.included_quantity or bought or rule.sold:
            rows.append(
                AddOnRow(
                    name=catalogue.addon(code).name,
                    included=rule.included_quantity,
                    bought=bought,
                    sold=rule.sold,
                    max_quantity=rule.max_quantity,
                    next_quantity=scheduled.get(code),
                    addon=catalogue.addon(code),
                )
            )
    return rows


def customer_mailboxes(customer: Customer) -> QuerySet[Mailbox]:
    return (
        Mailbox.objects.filter(customer=customer)
        .select_related("tier", "holder")
        .prefetch_related(
            Prefetch(
                "addons",
                queryset=MailboxAddOn.objects.filter(status__in=HELD).select_related("addon"),
            )
        )
    )


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = ""
    tier: str = ""
    expiry: str = ""  # "", "30" (within 30 days) or "expired"


def filtered_mailboxes(customer: Customer, filters: Filters, *, today: date) -> QuerySet[Mailbox]:
    """The customer's mailboxes with the dashboard's filters, by address."""
    mailboxes = customer_mailboxes(customer).order_by("address")
    if filters.q:
        q = filters.q.strip()
        mailboxes = mailboxes.filter(
            Q(address__icontains=q)
            | Q(holder__first_name__icontains=q)
            | Q(holder__last_name__icontains=q)
            | Q(holder__company_name__icontains=q)
            | Q(holder__fiscal_code__iexact=q)
            | Q(holder__vat_number__iexact=q)
        )
    if filters.status:
        mailboxes = mailboxes.filter(status=filters.status)
    else:
        mailboxes = mailboxes.exclude(status=MailboxStatus.CANCELLED)
    if filters.tier:
        mailboxes = mailboxes.filter(tier__code=filters.tier)
    if filters.expiry == "30":
        mailboxes = mailboxes.filter(
            status=MailboxStatus.ACTIVE, expires_on__lte=today + timedelta(days=EXPIRING_DAYS)
        )
    elif filters.expiry == "expired":
        mailboxes = mailboxes.filter(status=MailboxStatus.EXPIRED)
    return mailboxes


def dashboard_lists(
    customer: Customer, filters: Filters, *, today: date, own_page: int = 1, others_page: int = 1
) -> dict[str, Page]:
    """ "Le mie caselle PEC" and "PEC di altri titolari", filtered and paged."""
    mailboxes = filtered_mailboxes(customer, filters, today=today)
    catalogue = current_catalogue(today)
    own_holder = customer.own_holder_id
    pages = {}
    for name, queryset, number in (
        ("own", mailboxes.filter(holder_id=own_holder), own_page),
        ("others", mailboxes.exclude(holder_id=own_holder), others_page),
    ):
        page = Paginator(queryset, PAGE_SIZE).get_page(number)
        page.rows = [row(catalogue, m, today) for m in page.object_list]
        pages[name] = page
    return pages
