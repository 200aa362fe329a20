"""Reads for the Area Clienti, always scoped to one customer (or one mailbox)."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
    Window,
)
from django.db.models.expressions import RawSQL
from django.urls import reverse

from area.listing import HELD, Filters, ListedMailbox, listing
from billing.catalogue import UNREAD, version_column
from billing.catalogue_cache import current_catalogue
from billing.models import Invoice, Order, OrderItem
from billing.pricing import (
    QUOTA_LABELS,
    AddOnInfo,
    Catalogue,
    PricingError,
    quota_gb,
    quote_upgrade,
)
from billing.services.cart import CartState, cart_state_from, cart_state_read
from billing.services.withdrawals import (
    has_withdrawable_orders_sql,
    withdrawable_numbers,
    withdrawable_orders_between,
)
from billing.withdrawal_rule import earliest_withdrawable_payment
from customers.models import Customer
from mailboxes.models import Mailbox, MailboxAddOn, MailboxEvent, MailboxStatus
from mailboxes.terms import MB_PER_GB, grace_ends_on
from pecshop.prepared import prepared, set_prefetched, together

PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class UsageBar:
    """One usage bar: the figures, and the text the template prints worked out here (the
    properties), so nothing is computed or localized in the template; the API reads only
    the figures."""

    label: str
    used_mb: int
    quota_gb: int
    percent: int
    quota: str = ""  # "mailbox", "archive" or "conservation"

    @property
    def level(self) -> str:
        """The bar's colour: "ok", "warn" from 70%, "danger" from 90% (the alert
        thresholds)."""
        return "danger" if self.percent >= 90 else "warn" if self.percent >= 70 else "ok"

    @property
    def used_gb(self) -> str:  # "1,5"
        return f"{self.used_mb / MB_PER_GB:.1f}".replace(".", ",")

    @property
    def quota_label(self) -> str:  # the whole numbers as text: nothing to localize
        return str(self.quota_gb)

    @property
    def percent_label(self) -> str:
        return str(self.percent)

    @property
    def heading(self) -> str:  # the label with a capital
        return self.label[:1].upper() + self.label[1:]


def usage_bar(label: str, used_mb: int, quota_gb: int, quota: str = "") -> UsageBar:
    if not quota_gb:
        percent = 100 if used_mb else 0
    else:
        percent = min(100, round(used_mb * 100 / (quota_gb * MB_PER_GB)))
    return UsageBar(label, used_mb, quota_gb, percent, quota)


@dataclass(frozen=True)
class MailboxRow:
    """A mailbox as the dashboard and the mailbox page show it, worked out once here: the
    table only prints these fields (no lookups, filters or URL reversing per row)."""

    mailbox: ListedMailbox
    holdings: dict[str, int]
    usage: list[UsageBar]
    expiring: bool
    expired: bool
    url: str
    holder_name: str
    tier_name: str
    status_label: str
    expires_label: str  # "25/05/2027", or "—"


# "casella", "archivio di sicurezza", "conservazione": each quota's name on its bar.
BAR_LABELS = {
    quota: label.removeprefix("della ").removeprefix("dell'")
    for quota, label in QUOTA_LABELS.items()
}


def usage_bars(
    catalogue: Catalogue, tier_code: str, usage_mb: Mapping[str, int], holdings: dict[str, int]
) -> list[UsageBar]:
    """A bar for each quota the mailbox has (included, bought, or used anyway)."""
    bars = []
    for quota, label in BAR_LABELS.items():
        limit = quota_gb(catalogue, tier_code, holdings, quota)
        used = usage_mb[quota]
        if limit or used:
            bars.append(usage_bar(label, used, limit, quota))
    return bars


STATUS_LABELS = dict(MailboxStatus.choices)


def row(
    catalogue: Catalogue,
    mailbox: Mailbox | ListedMailbox,
    today: date,
    url: str = "",
) -> MailboxRow:
    """`mailbox`: one read by `mailbox_listing`, or a Mailbox with its add-ons prefetched;
    `url`: the mailbox page's address (default: reversed here)."""
    if isinstance(mailbox, Mailbox):
        mailbox = ListedMailbox.of(mailbox, own_holder_id=None)
    holdings = mailbox.holdings
    return MailboxRow(
        mailbox=mailbox,
        holdings=holdings,
        usage=usage_bars(catalogue, mailbox.tier_code, mailbox.usage_mb, holdings),
        expiring=mailbox.expiring(today),
        expired=mailbox.status == MailboxStatus.EXPIRED,
        url=url or reverse("area:mailbox", args=[mailbox.pk]),
        holder_name=mailbox.holder_name,
        tier_name=mailbox.tier_name,
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


@prepared
def _account_mailbox(customer_id: int, pk: int) -> QuerySet:
    return (
        Mailbox.objects.select_related("tier", "holder")
        .filter(customer_id=customer_id, pk=pk)
        .annotate(catalogue_version=RawSQL(version_column(), []))  # noqa: S611 - no value
    )


@prepared
def _held_addons(customer_id: int, mailbox_id: int) -> QuerySet:
    return MailboxAddOn.objects.filter(
        mailbox_id=mailbox_id, mailbox__customer_id=customer_id, status__in=HELD
    ).select_related("addon")


def customer_mailbox(customer: Customer, pk: int) -> Mailbox | None:
    """One of the account's mailboxes (None if it is not the account's) as
    `customer_mailboxes` reads it (tier, holder, held add-ons), in two statements compiled
    once and sent together (pecshop.prepared). The first also reads the catalogue's
    version, which `mailbox_catalogue` hands on."""
    if not 0 < pk < 2**63:  # no such row; SQLite could not even bind the number
        return None
    found, addons = together(
        _account_mailbox.bind(customer_id=customer.pk, pk=pk),
        _held_addons.bind(customer_id=customer.pk, mailbox_id=pk),
    )
    return _with_addons(found, addons, customer)


def _with_addons(found: list[Mailbox], addons: list, customer: Customer) -> Mailbox | None:
    if not found:
        return None
    mailbox = found[0]
    mailbox.customer = customer  # the account already loaded with the user
    set_prefetched(mailbox, "addons", addons)
    return mailbox


def mailbox_catalogue(mailbox: Mailbox, today: date) -> Catalogue:
    """The catalogue for a page about `mailbox`: its version as read with the mailbox by
    `customer_mailbox` (no statement of its own), else read now."""
    return current_catalogue(today, version=getattr(mailbox, "catalogue_version", UNREAD))


@dataclass(frozen=True)
class Dashboard:
    pages: dict[str, Page]  # "own" and "others", each with its rows worked out (`rows`)
    catalogue: Catalogue  # the one the rows were worked out with
    withdrawable: bool  # an order still in its withdrawal period (the link to withdraw)
    cart: CartState | None = None  # the header's cart, read with the lists


def dashboard_lists(
    customer: Customer | None,
    filters: Filters,
    *,
    today: date,
    own_page: int = 1,
    others_page: int = 1,
) -> Dashboard:
    """ "Le mie caselle PEC" and "PEC di altri titolari", filtered and paged, each page with
    its rows worked out (`page.rows`), in one query that also reads the catalogue's version
    and whether an order may still be withdrawn, sent with the header's cart state in one
    round trip. A page past the end shows the last one. A user without a customer profile
    has none."""
    if customer is None:
        empty = Paginator([], PAGE_SIZE).get_page(1)
        empty.rows = []
        return Dashboard({"own": empty, "others": empty}, current_catalogue(today), False)
    numbers = {"own": _page_number(own_page), "others": _page_number(others_page)}
    withdrawable = has_withdrawable_orders_sql(customer=customer, today=today)

    def asked():
        return listing(
            customer.pk,
            customer.own_holder_id,
            filters,
            today=today,
            size=PAGE_SIZE,
            own_page=numbers["own"],
            others_page=numbers["others"],
            flags={"withdrawable": withdrawable},
        )

    # The header's cart state in the same round trip.
    first = asked()
    lists, cart_rows = together(first.statement, cart_state_read(customer))
    listed = first.pages(lists, customer.own_holder_id)
    past_end = {
        name: max(1, -(-listed[name].count // PAGE_SIZE))
        for name in listed
        if not listed[name].rows and numbers[name] > 1
    }
    if past_end:  # a page number past the end (an old link): the last page instead
        numbers.update(past_end)
        again = asked()
        listed = again.pages(again.statement.rows(), customer.own_holder_id)
    catalogue = current_catalogue(today, version=listed["own"].catalogue_version)
    # Every row links to its page: one reverse, the id put in for each row.
    url = reverse("area:mailbox", args=[0]).removesuffix("0/")
    pages = {}
    for name, one in listed.items():
        paginator = CountedPaginator(one.rows, PAGE_SIZE, count=one.count)
        page = Page(one.rows, numbers[name], paginator)
        page.rows = [row(catalogue, m, today, f"{url}{m.pk}/") for m in one.rows]
        pages[name] = page
    withdrawable = listed["own"].flags["withdrawable"]
    return Dashboard(pages, catalogue, withdrawable, cart_state_from(cart_rows))


def _page_number(number) -> int:
    try:
        return max(1, int(number))
    except (TypeError, ValueError):
        return 1


ORDERS_SHOWN = 20


def _mailbox_orders(customer_id: int, mailbox_id: int) -> QuerySet:
    # The orders holding an item of the mailbox (a subquery: no join, so no DISTINCT),
    # newest first; the page shows ORDERS_SHOWN of them.
    items = OrderItem.objects.filter(mailbox_id=mailbox_id).values("order_id")
    return (
        Order.objects.filter(customer_id=customer_id, pk__in=items)
        .only("number", "placed_on", "status", "total", "created_at")
        .order_by("-created_at", "-id")
    )


@prepared
def _orders_of_mailbox(customer_id: int, mailbox_id: int, today: date, since: date) -> QuerySet:
    # Each with whether it may still be withdrawn (the rule's own queryset, as a subquery).
    withdrawable = withdrawable_orders_between(customer_id=customer_id, today=today, since=since)
    return _mailbox_orders(customer_id, mailbox_id).annotate(
        withdrawable=Exists(withdrawable.filter(pk=OuterRef("pk")))
    )[:ORDERS_SHOWN]


@prepared
def _invoices_of_mailbox(customer_id: int, mailbox_id: int) -> QuerySet:
    orders = _mailbox_orders(customer_id, mailbox_id)[:ORDERS_SHOWN].values("pk")
    return Invoice.objects.filter(customer_id=customer_id, order__in=orders).order_by(
        "-issued_on", "-number"
    )


@dataclass(frozen=True)
class MailboxOrders:
    orders: list[Order]  # the latest ORDERS_SHOWN, newest first
    invoices: list[Invoice]  # theirs, invoices and credit notes
    withdrawable: list[str]  # the numbers of the mailbox's orders still withdrawable


def _with_invoices(mailbox: Mailbox, orders: list[Order], today: date) -> MailboxOrders:
    if len(orders) < ORDERS_SHOWN:  # every order of the mailbox is here
        withdrawable = [order.number for order in orders if order.withdrawable]
    else:
        withdrawable = withdrawable_numbers(mailbox=mailbox, today=today)
    invoices = (
        _invoices_of_mailbox.all(customer_id=mailbox.customer_id, mailbox_id=mailbox.pk)
        if orders
        else []
    )
    return MailboxOrders(orders, invoices, withdrawable)


def session_mailbox_orders(
    mailbox: Mailbox, numbers: Sequence[str]
) -> tuple[list[Order], list[Invoice]]:
    """The orders of `account_mailbox_page` for a session opened with the mailbox's own
    credentials: only those it placed (`numbers`), and their invoices; none withdrawable
    here (the account's orders stay the account's)."""
    mine = _mailbox_orders(mailbox.customer_id, mailbox.pk).filter(number__in=list(numbers))
    orders = list(mine[:ORDERS_SHOWN])
    if not orders:
        return [], []
    invoices = Invoice.objects.filter(customer_id=mailbox.customer_id, order__in=orders)
    return orders, list(invoices.order_by("-issued_on", "-number"))


MAX_PAGE = 10_000_000  # a larger page number is past the end anyway
EVENTS_PER_PAGE = 20


def _history(mailbox_id: int) -> QuerySet:
    # The page shows no actor; the window count is the whole list's, read with the page.
    return (
        MailboxEvent.objects.filter(mailbox_id=mailbox_id)
        .annotate(total_rows=Window(Count("pk")))
        .order_by("-created_at", "-id")
    )


_events = prepared(_history)


@prepared
def _account_history(customer_id: int, mailbox_id: int) -> QuerySet:
    return _history(mailbox_id).filter(mailbox__customer_id=customer_id)


def _events_number(number) -> int:
    return min(_page_number(number), MAX_PAGE)


def _events_page(rows: list, number: int, history: Callable[[], QuerySet]) -> Page:
    """The page of the history from its rows and their window count; a page past the end
    falls back to the last (`history`: the whole list, read then)."""
    if not rows and number > 1:
        return Paginator(history(), EVENTS_PER_PAGE).get_page(number)
    count = rows[0].total_rows if rows else 0
    # The paginator only counts (the page is built here): it is given the rows, not a list
    # it would have to read again.
    return Page(rows, number, CountedPaginator(rows, EVENTS_PER_PAGE, count=count))


def mailbox_events_page(mailbox: Mailbox, number) -> Page:
    """A page of the mailbox's history, newest first, and the count of the whole history
    read together (a window count on the rows of the page): one query instead of two. A page
    past the end falls back to the last."""
    number = _events_number(number)
    offset = (number - 1) * EVENTS_PER_PAGE
    rows = _events.page(EVENTS_PER_PAGE, offset, mailbox_id=mailbox.pk)
    return _events_page(rows, number, lambda: _events.build(mailbox_id=mailbox.pk))


@dataclass(frozen=True)
class MailboxPageReads:
    mailbox: Mailbox  # with its tier, holder, held add-ons and the catalogue's version
    events: Page  # a page of its history
    orders: MailboxOrders
    cart: CartState | None  # the header's cart, read with the mailbox


def account_mailbox_page(
    customer: Customer, pk: int, *, events_page, today: date
) -> MailboxPageReads | None:
    """What the mailbox page reads of one of the account's mailboxes (None if it is not the
    account's): the mailbox as `customer_mailbox` gives it, a page of its history and its
    orders, four statements compiled once and sent together (pecshop.prepared.together);
    their invoices after, when it has orders."""
    if not 0 < pk < 2**63:  # no such row; SQLite could not even bind the number
        return None
    number = _events_number(events_page)
    ids = {"customer_id": customer.pk, "mailbox_id": pk}
    found, addons, events, orders, cart = together(
        _account_mailbox.bind(customer_id=customer.pk, pk=pk),
        _held_addons.bind(**ids),
        _account_history.bind_page(EVENTS_PER_PAGE, (number - 1) * EVENTS_PER_PAGE, **ids),
        _orders_of_mailbox.bind(**ids, today=today, since=earliest_withdrawable_payment(today)),
        cart_state_read(customer),  # the header's
    )
    mailbox = _with_addons(found, addons, customer)
    if mailbox is None:
        return None
    return MailboxPageReads(
        mailbox,
        _events_page(events, number, lambda: _account_history.build(**ids)),
        _with_invoices(mailbox, orders, today),
        cart_state_from(cart),
    )


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
            return Page([], number, self)
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
