"""Reads for the Area Clienti, always scoped to one customer (or one mailbox)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.urls import reverse

from billing.pricing import (
    QUOTA_LABELS,
    AddOnInfo,
    Catalogue,
    PricingError,
    quota_gb,
    quote_upgrade,
)
from customers.models import Customer
from mailboxes.models import AddOnStatus, Mailbox, MailboxAddOn, MailboxStatus
from mailboxes.terms import MB_PER_GB, grace_ends_on

PAGE_SIZE = 20
EXPIRING_DAYS = 30
HELD = [AddOnStatus.ACTIVE, AddOnStatus.EXPIRED]


@dataclass(frozen=True)
class UsageBar:
    """One usage bar, every figure worked out here so the template only prints them."""

    label: str
    used_mb: int
    quota_gb: int
    percent: int
    level: str  # "ok", "warn" from 70%, "danger" from 90% (the alert thresholds)
    used_gb: str  # "1,5"
    quota_label: str  # the whole numbers as text: nothing to localize in the template
    percent_label: str
    heading: str  # the label with a capital


def usage_bar(label: str, used_mb: int, quota_gb: int) -> UsageBar:
    if not quota_gb:
        percent = 100 if used_mb else 0
    else:
        percent = min(100, round(used_mb * 100 / (quota_gb * MB_PER_GB)))
    level = "danger" if percent >= 90 else "warn" if percent >= 70 else "ok"
    used_gb = f"{used_mb / MB_PER_GB:.1f}".replace(".", ",")
    return UsageBar(
        label,
        used_mb,
        quota_gb,
        percent,
        level,
        used_gb,
        str(quota_gb),
        str(percent),
        label[:1].upper() + label[1:],
    )


@dataclass(frozen=True)
class MailboxRow:
    """A mailbox as the dashboard and the mailbox page show it, worked out once here: the
    50-row table only prints these fields (no lookups, filters or URL reversing per row)."""

    mailbox: Mailbox
    holdings: dict[str, int]
    usage: list[UsageBar]
    expiring: bool
    expired: bool
    url: str
    holder_name: str
    tier_name: str
    status_label: str
    expires_label: str  # "25/05/2027", or "—"


def usage_bars(catalogue: Catalogue, mailbox: Mailbox, holdings: dict[str, int]) -> list[UsageBar]:
    bars = []
    for quota, label in QUOTA_LABELS.items():
        limit = quota_gb(catalogue, mailbox.tier.code, holdings, quota)
        used = getattr(mailbox, f"usage_{quota}_mb")
        if limit or used:
            bars.append(usage_bar(label.removeprefix("della ").removeprefix("dell'"), used, limit))
    return bars


def _holdings(mailbox: Mailbox) -> dict[str, int]:
    # Uses the prefetched add-ons: no query per mailbox.
    return {a.addon.code: a.quantity for a in mailbox.addons.all() if a.status in HELD}


STATUS_LABELS = dict(MailboxStatus.choices)
# What a dashboard row reads: the page's query asks for these columns only.
ROW_FIELDS = [
    "address",
    "status",
    "expires_on",
    "customer_id",
    "usage_mailbox_mb",
    "usage_archive_mb",
    "usage_conservation_mb",
    "tier__code",
    "tier__name",
    "holder__kind",
    "holder__first_name",
    "holder__last_name",
    "holder__company_name",
]


def row(
    catalogue: Catalogue,
    mailbox: Mailbox,
    today: date,
    url: str = "",
    holdings: dict[str, int] | None = None,
) -> MailboxRow:
    """`url`: the mailbox page's address (default: reversed here); `holdings`: the add-ons
    held, when the caller read them already (default: from the prefetched add-ons)."""
    if holdings is None:
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
        url=url or reverse("area:mailbox", args=[mailbox.pk]),
        holder_name=mailbox.holder.display_name,
        tier_name=mailbox.tier.name,
        status_label=STATUS_LABELS[mailbox.status],
        expires_label=mailbox.expires_on.strftime("%d/%m/%Y") if mailbox.expires_on else "—",
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
        """What more may be bought: "fino a 100 GB", or "acquistabile" for a service not held;
        a service already bought is "attivo", not offered again."""
        if self.addon.unit == "SERVICE":
            return "attivo" if self.bought >= max(self.max_quantity, 1) else "acquistabile"
        if self.max_quantity and self.bought >= self.max_quantity:
            return f"massimo raggiunto ({self.amount(self.max_quantity)})"
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


def customer_mailboxes(customer: Customer | None) -> QuerySet[Mailbox]:
    """The account's mailboxes with what their rows show, in a fixed number of queries
    (None: any mailbox, for a session opened with a mailbox's own credentials, which then
    asks for that one mailbox only)."""
    mailboxes = Mailbox.objects.all() if customer is None else customer.mailboxes.all()
    return mailboxes.select_related("tier", "holder", "customer").prefetch_related(
        Prefetch(
            "addons",
            queryset=MailboxAddOn.objects.filter(status__in=HELD).select_related("addon"),
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
    customer: Customer | None,
    filters: Filters,
    *,
    catalogue: Catalogue,
    today: date,
    own_page: int = 1,
    others_page: int = 1,
) -> dict[str, Page]:
    """ "Le mie caselle PEC" and "PEC di altri titolari", filtered and paged, each page with
    its rows worked out (`page.rows`). A user without a customer profile has none."""
    if customer is None:
        empty = Paginator(Mailbox.objects.none(), PAGE_SIZE).get_page(1)
        empty.rows = []
        return {"own": empty, "others": empty}
    mailboxes = filtered_mailboxes(customer, filters, today=today)
    own_holder = customer.own_holder_id
    # Every row links to its page: one reverse, the id put in for each row.
    url = reverse("area:mailbox", args=[0]).removesuffix("0/")
    # The add-ons held, as columns of the page's own query (one live holding per add-on
    # and mailbox): no second query for them.
    codes = list(catalogue.addons)
    held = {
        f"held_{index}": Subquery(
            MailboxAddOn.objects.filter(
                mailbox=OuterRef("pk"), addon__code=code, status__in=HELD
            ).values("quantity")[:1]
        )
        for index, code in enumerate(codes)
    }
    rows = (
        mailboxes.prefetch_related(None)
        .select_related(None)
        .select_related("tier", "holder")
        .only(*ROW_FIELDS)
        .annotate(**held)
    )
    own_rows, others_rows = rows.filter(holder_id=own_holder), rows.exclude(holder_id=own_holder)
    # The first list's page carries both counts: its own as a window count, the other
    # list's as a scalar subquery. Only when that page has no rows are they asked apart.
    others_count = Subquery(
        mailboxes.exclude(holder_id=own_holder)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    own_number = _page_number(own_page)
    start = (own_number - 1) * PAGE_SIZE
    first = list(
        own_rows.annotate(own_total=Window(Count("pk")), others_total=others_count)[
            start : start + PAGE_SIZE
        ]
    )
    if first:
        counts = {"own": first[0].own_total, "others": first[0].others_total}
    else:
        counts = mailboxes.order_by().aggregate(
            own=Count("pk", filter=Q(holder_id=own_holder)),
            others=Count("pk", filter=~Q(holder_id=own_holder)),
        )
    pages = {}
    for name, queryset, number in (
        ("own", own_rows, own_page),
        ("others", others_rows, others_page),
    ):
        paginator = CountedPaginator(queryset, PAGE_SIZE, count=counts[name])
        if name == "own" and first:
            page = paginator._get_page(first, own_number, paginator)
        else:
            page = paginator.get_page(number)
        page.rows = [
            row(
                catalogue,
                m,
                today,
                f"{url}{m.pk}/",
                holdings={
                    code: quantity
                    for index, code in enumerate(codes)
                    if (quantity := getattr(m, f"held_{index}"))
                },
            )
            for m in page.object_list
        ]
        pages[name] = page
    return pages


def _page_number(number) -> int:
    try:
        return max(1, int(number))
    except (TypeError, ValueError):
        return 1


def page_in_one_query(queryset: QuerySet, per_page: int, number) -> Page:
    """A page of `queryset` and its total count read together (a window count on the rows
    of the page): one query instead of two. A page past the end falls back to the last."""
    number = _page_number(number)
    start = (number - 1) * per_page
    rows = list(queryset.annotate(total_rows=Window(Count("pk")))[start : start + per_page])
    if not rows and number > 1:
        return Paginator(queryset, per_page).get_page(number)
    paginator = CountedPaginator(queryset, per_page, count=rows[0].total_rows if rows else 0)
    return paginator._get_page(rows, number, paginator)


class CountedPaginator(Paginator):
    """A paginator told its count (worked out with another), so it does not ask again; an
    empty list is not read at all."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._count = count

    @property
    def count(self) -> int:
        return self._count

    def page(self, number):
        if not self._count:
            number = self.validate_number(number)
            return self._get_page([], number, self)
        return super().page(number)


# --- what a mailbox offers ------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxAction:
    """One thing the mailbox page offers: its button and, for a purchase, what it may buy.

    `choices` are add-on codes (acquista, aumenta, multiutente, a renewal's add-ons to add)
    or tier codes (upgrade); `to_tier` is a renewal's target tier.
    """

    code: str
    label: str
    url: str
    style: str = "secondary"  # "primary", "secondary" or "danger"
    choices: tuple[str, ...] = ()
    to_tier: str = ""
    note: str = ""


PURCHASES = ("acquista", "aumenta", "multiutente", "upgrade", "rinnova")


def renewable(mailbox: Mailbox, today: date) -> bool:
    """Active, or expired and still in the grace period."""
    if mailbox.status == MailboxStatus.ACTIVE:
        return True
    return bool(
        mailbox.status == MailboxStatus.EXPIRED
        and mailbox.expires_on
        and today < grace_ends_on(mailbox.expires_on)
    )


def mailbox_actions(
    mailbox: Mailbox,
    today: date,
    *,
    catalogue: Catalogue,
    holdings: dict[str, int],
    mailbox_only: bool = False,
    withdrawable: Sequence[str] = (),
) -> list[MailboxAction]:
    """Every action the mailbox offers now, in the order the page shows them.

    - Acquista: add-ons the tier sells that the mailbox does not hold (users aside);
    - Aumenta: GB add-ons held, sold by the tier, below its maximum;
    - Aggiungi utenti Multiutente: only where the tier sells users (Premium);
    - Passa a una tipologia superiore: while a higher tier exists;
    - Rinnova, and Rinnova come <tipologia> for the other tiers: each offers to add only the
      add-ons its target tier sells (a Pro renewal offers neither Multiutente nor SMS);
    - Riduci GB: a GB add-on with a quota is held;
    - Recedi dal contratto qui: one per order of the mailbox still in its withdrawal
      period (`withdrawable`: their numbers, read by the caller with
      `billing.services.withdrawals.withdrawable_orders`, so that this stays free of
      queries);
    - Cambia titolare, Disdetta.
    Purchases other than the renewal need an active mailbox; a session opened with the
    mailbox's own credentials may only renew it as it is (no withdrawal either). Nothing
    for a cancelled mailbox or one awaiting payment.
    """
    if mailbox.status not in (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED):
        return []
    tier = mailbox.tier.code
    pk = mailbox.pk

    def url(name: str, *args) -> str:
        return reverse(f"area:{name}", args=[pk, *args])

    def sold(tier_code: str, code: str) -> bool:
        return catalogue.rule(tier_code, code).sold

    actions: list[MailboxAction] = []
    active = mailbox.status == MailboxStatus.ACTIVE and not mailbox_only
    if active:
        addons = catalogue.ordered(catalogue.addons)
        new = tuple(
            c
            for c in addons
            if sold(tier, c) and c not in holdings and catalogue.addon(c).unit != "USER"
        )
        if new:
            actions.append(
                MailboxAction("acquista", "Acquista", url("action", "acquista"), "primary", new)
            )
        more = tuple(
            c
            for c in catalogue.ordered(holdings)
            if catalogue.addon(c).unit == "GB"
            and sold(tier, c)
            and holdings[c] < catalogue.rule(tier, c).max_quantity
        )
        if more:
            actions.append(
                MailboxAction("aumenta", "Aumenta", url("action", "aumenta"), "primary", more)
            )
        users = tuple(c for c in addons if catalogue.addon(c).unit == "USER" and sold(tier, c))
        if users:
            actions.append(
                MailboxAction(
                    "multiutente",
                    "Aggiungi utenti Multiutente",
                    url("action", "multiutente"),
                    "primary",
                    users,
                )
            )
        higher = tuple(
            t.code
            for t in sorted(catalogue.tiers.values(), key=lambda t: t.rank)
            if t.rank > catalogue.tier(tier).rank
        )
        if higher:
            actions.append(
                MailboxAction(
                    "upgrade",
                    "Passa a una tipologia superiore",
                    url("action", "upgrade"),
                    "secondary",
                    higher,
                )
            )
        reducible = tuple(
            c
            for c in catalogue.ordered(holdings)
            if catalogue.addon(c).unit == "GB" and catalogue.addon(c).quota
        )
        if reducible:
            actions.append(MailboxAction("riduci", "Riduci GB", url("reduce"), choices=reducible))
    if renewable(mailbox, today):
        targets = (
            [tier]
            if mailbox_only
            else [t.code for t in sorted(catalogue.tiers.values(), key=lambda t: t.rank)]
        )
        if tier not in targets:  # a tier no longer in the catalogue renews as it is
            targets.insert(0, tier)
        for target in sorted(targets, key=lambda t: t != tier):
            addable = (
                ()
                if mailbox_only
                else tuple(c for c in catalogue.ordered(catalogue.addons) if sold(target, c))
            )
            base = url("action", "rinnova")
            actions.append(
                MailboxAction(
                    "rinnova",
                    "Rinnova" if target == tier else f"Rinnova come {catalogue.tier(target).name}",
                    base if target == tier else f"{base}?tipologia={target}",
                    choices=addable,
                    to_tier=target,
                )
            )
    if not mailbox_only:
        for number in withdrawable:
            actions.append(
                MailboxAction(
                    "recedi",
                    "Recedi dal contratto qui",
                    reverse("area:withdrawal", args=[number]),
                    "danger",
                    choices=(number,),
                    note=f"ordine {number}: recesso possibile per 14 giorni dal pagamento",
                )
            )
        actions.append(MailboxAction("titolare", "Cambia titolare", url("holder")))
        actions.append(MailboxAction("disdetta", "Disdetta", url("cancel"), "danger"))
    return actions


def offered_action(
    actions: list[MailboxAction], code: str, to_tier: str = ""
) -> MailboxAction | None:
    """The offered action `code` (for a renewal, the one to `to_tier`, default the first)."""
    for action in actions:
        if action.code == code and (not to_tier or action.to_tier == to_tier):
            return action
    return None


def upgrade_offers(catalogue: Catalogue, mailbox: Mailbox, holdings: dict[str, int], today: date):
    """The comparison beside a purchase: the price of moving to each higher tier for the
    months left (only for an active mailbox)."""
    offers = []
    if mailbox.status != MailboxStatus.ACTIVE:
        return offers
    for tier in sorted(catalogue.tiers.values(), key=lambda t: t.rank):
        if tier.rank <= mailbox.tier.rank:
            continue
        try:
            quote = quote_upgrade(
                catalogue,
                tier=mailbox.tier.code,
                to_tier=tier.code,
                expires_on=mailbox.expires_on,
                today=today,
                held=holdings,
            )
        except PricingError:
            continue
        offers.append({"tier": tier, "quote": quote})
    return offers
