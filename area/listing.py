"""The mailbox lists of the dashboard and of the API: a page of each list in one statement.

The dashboard shows two lists ("Le mie caselle PEC" and "PEC di altri titolari"), each
filtered, paged and counted, with the add-ons every row holds. Written with the ORM, that
page cost more to build and compile than the database took to answer it, on every request.
Here it is one SQL statement, written once, that works on PostgreSQL and SQLite alike:

- `chosen`: the account's mailboxes with the dashboard's filters, each marked own (1) or
  another holder's (0); the API, which shows a single list, marks them all 0;
- `numbered`: each mailbox's place in its list, by address;
- `counts`: how many each list holds (a row even when nothing matches);
- then the rows of the pages asked for, joined to the add-ons they hold (several result
  rows for one mailbox; they are put together here), with the catalogue's version, so the
  page needs no statement of its own to learn whether its snapshot is current, and any
  yes-or-no the caller asks along (`flags`, such as the dashboard's withdrawal link).

Every filter is a bound parameter; only table names (from the models) enter the text.
"""
# ruff: noqa: S608 - the SQL here is assembled from table names and fixed fragments; every
# value is a bound parameter.

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection

from addons.models import AddOn, Tier
from billing.catalogue import version_column
from customers.models import Holder
from mailboxes.models import AddOnStatus, Mailbox, MailboxAddOn, MailboxStatus
from pecshop.prepared import Statement

EXPIRING_DAYS = 30
HELD = (AddOnStatus.ACTIVE, AddOnStatus.EXPIRED)
OWN, OTHERS = 1, 0
MAX_PAGE = 10_000_000  # a larger page number is the last page anyway
ALL = 2**31 - 1  # a page size that takes the whole list (the CSV export)


@dataclass(frozen=True, slots=True)
class ListedAddOn:
    code: str
    name: str
    quantity: int
    status: str
    next_quantity: int | None


@dataclass(slots=True)
class ListedMailbox:
    """A mailbox as the lists show it: its own columns, its tier's and holder's, and the
    add-ons it holds (active or expired, one holding per add-on)."""

    pk: int
    address: str
    status: str
    activated_on: date | None
    expires_on: date | None
    auto_renew: bool
    usage_mb: Mapping[str, int]  # "mailbox", "archive", "conservation" -> MB used
    tier_code: str
    tier_name: str
    holder_id: int
    holder_name: str
    holder_tax_id: str
    own: bool
    addons: list[ListedAddOn] = field(default_factory=list)

    @property
    def holdings(self) -> dict[str, int]:
        return {a.code: a.quantity for a in self.addons}

    def expiring(self, today: date) -> bool:
        """Active and expiring within EXPIRING_DAYS (the dashboard's "in scadenza", the same
        rule as its filter `scadenza=30`)."""
        return bool(
            self.status == MailboxStatus.ACTIVE
            and self.expires_on
            and self.expires_on <= today + timedelta(days=EXPIRING_DAYS)
        )

    @classmethod
    def of(cls, mailbox: Mailbox, own_holder_id: int | None) -> "ListedMailbox":
        """The same record for a mailbox read with the ORM (its add-ons prefetched)."""
        holder = mailbox.holder
        return cls(
            pk=mailbox.pk,
            address=mailbox.address,
            status=mailbox.status,
            activated_on=mailbox.activated_on,
            expires_on=mailbox.expires_on,
            auto_renew=mailbox.auto_renew,
            usage_mb={
                "mailbox": mailbox.usage_mailbox_mb,
                "archive": mailbox.usage_archive_mb,
                "conservation": mailbox.usage_conservation_mb,
            },
            tier_code=mailbox.tier.code,
            tier_name=mailbox.tier.name,
            holder_id=holder.pk,
            holder_name=holder.display_name,
            holder_tax_id=holder.tax_id,
            own=mailbox.holder_id == own_holder_id,
            addons=[
                ListedAddOn(a.addon.code, a.addon.name, a.quantity, a.status, a.next_quantity)
                for a in mailbox.addons.all()
                if a.status in HELD
            ],
        )


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters (the API and the CSV export take the same, plus `holder`)."""

    q: str = ""
    status: str = ""
    tier: str = ""
    expiry: str = ""  # "", "30" (active, expiring within 30 days) or "expired"
    holder: str = ""  # "", "own" or "others"

    @classmethod
    def from_query(cls, params) -> "Filters":
        """The filters of the dashboard's search form (`q`, `stato`, `tipologia`,
        `scadenza`), an unknown value read as no filter."""
        return cls(
            q=params.get("q", "")[:100],
            status=params.get("stato", "") if params.get("stato") in MailboxStatus.values else "",
            tier=params.get("tipologia", "")[:20],
            expiry=params.get("scadenza", "")
            if params.get("scadenza") in {"30", "expired"}
            else "",
        )


@dataclass(frozen=True)
class ListPage:
    rows: list[ListedMailbox]
    count: int
    catalogue_version: int | None = None  # read with the rows (billing.catalogue)
    flags: Mapping[str, bool] = field(default_factory=dict)  # the `flags` asked for


@dataclass(frozen=True)
class SqlValue:
    """A value the statement works out itself, an SQL expression with its parameters: for a
    statement sent before the value is known (the account of an API token,
    `api.services.token_account`)."""

    sql: str
    params: list


def _value(value) -> tuple[str, list]:
    return (value.sql, value.params) if isinstance(value, SqlValue) else ("%s", [value])


def _where(
    customer_id: int | SqlValue, own_holder_id, filters: Filters, today: date
) -> tuple[str, list, frozenset[str]]:
    """The filters as a WHERE clause, its parameters, and the tables it reads besides the
    mailbox's ("tier", "holder")."""
    customer, customer_params = _value(customer_id)
    clauses, params, joins = [f"m.customer_id = {customer}"], [*customer_params], set()
    if filters.q.strip():
        q = filters.q.strip()
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(
            "(UPPER(m.address) LIKE UPPER(%s) ESCAPE '\\'"
            " OR UPPER(h.first_name) LIKE UPPER(%s) ESCAPE '\\'"
            " OR UPPER(h.last_name) LIKE UPPER(%s) ESCAPE '\\'"
            " OR UPPER(h.company_name) LIKE UPPER(%s) ESCAPE '\\'"
            " OR UPPER(h.fiscal_code) = UPPER(%s) OR UPPER(h.vat_number) = UPPER(%s))"
        )
        params += [like, like, like, like, q, q]
        joins.add("holder")
    if filters.status:
        clauses.append("m.status = %s")
        params.append(filters.status)
    else:
        clauses.append("m.status <> %s")
        params.append(MailboxStatus.CANCELLED)
    if filters.tier:
        clauses.append("t.code = %s")
        params.append(filters.tier)
        joins.add("tier")
    if filters.expiry == "30":
        clauses.append("m.status = %s AND m.expires_on <= %s")
        params += [
            MailboxStatus.ACTIVE,
            connection.ops.adapt_datefield_value(today + timedelta(days=EXPIRING_DAYS)),
        ]
    elif filters.expiry == "expired":
        clauses.append("m.status = %s")
        params.append(MailboxStatus.EXPIRED)
    if filters.holder in ("own", "others"):
        # A customer without an own holder has no "own" mailboxes (NULL matches nothing).
        own, own_params = _value(own_holder_id)
        clauses.append(
            f"{'' if filters.holder == 'own' else 'NOT '}COALESCE(m.holder_id = {own}, 0 = 1)"
        )
        params += own_params
    return " AND ".join(clauses), params, frozenset(joins)


def _flag_columns(flags: Sequence[str]) -> str:
    # Each named: two unnamed EXISTS would be two columns called "exists".
    return "".join(f", {expression} AS flag_{n}" for n, expression in enumerate(flags))


def _sql(
    where: str, own_holder: str, flags: Sequence[str] = (), joins: frozenset[str] = frozenset()
) -> str:
    # The lists are numbered on narrow rows (a mailbox's id, address and list); only the
    # rows of the pages asked for are joined to their tier, holder and add-ons. `joins`:
    # the tables the filters read ("tier", "holder").
    tier = f"JOIN {Tier._meta.db_table} t ON t.id = m.tier_id" if "tier" in joins else ""
    holder = f"JOIN {Holder._meta.db_table} h ON h.id = m.holder_id" if "holder" in joins else ""
    return f"""
WITH chosen AS (
    SELECT m.id, m.address, CASE WHEN %s AND m.holder_id = {own_holder} THEN 1 ELSE 0 END AS grp
    FROM {Mailbox._meta.db_table} m {tier} {holder}
    WHERE {where}
), numbered AS (
    SELECT id, grp, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY address, id) AS n
    FROM chosen
), shown AS (
    SELECT * FROM numbered
    WHERE (grp = 1 AND n > %s AND n <= %s) OR (grp = 0 AND n > %s AND n <= %s)
), counts AS (
    SELECT COUNT(CASE WHEN grp = 1 THEN 1 END) AS own_total,
           COUNT(CASE WHEN grp = 0 THEN 1 END) AS others_total,
           {version_column()} AS catalogue_version{_flag_columns(flags)}
    FROM chosen
)
SELECT m.id, m.address, m.status, m.activated_on, m.expires_on, m.auto_renew,
       m.usage_mailbox_mb, m.usage_archive_mb, m.usage_conservation_mb,
       t.code, t.name, h.id, h.kind, h.first_name, h.last_name, h.company_name,
       h.vat_number, h.fiscal_code, shown.grp,
       a.code, a.name, ma.quantity, ma.status, ma.next_quantity, counts.*
FROM counts
LEFT JOIN shown ON 1 = 1
LEFT JOIN {Mailbox._meta.db_table} m ON m.id = shown.id
LEFT JOIN {Tier._meta.db_table} t ON t.id = m.tier_id
LEFT JOIN {Holder._meta.db_table} h ON h.id = m.holder_id
LEFT JOIN {MailboxAddOn._meta.db_table} ma ON ma.mailbox_id = m.id AND ma.status IN (%s, %s)
LEFT JOIN {AddOn._meta.db_table} a ON a.id = ma.addon_id
ORDER BY shown.grp DESC, shown.n, a.position, a.id
"""


def _date(value) -> date | None:
    # PostgreSQL gives dates; SQLite gives them as text when the column comes through a CTE.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


@dataclass(frozen=True)
class Listing:
    """The statement of the pages asked for (`pecshop.prepared.Statement`: to run alone or
    together with other statements) and how to read its rows (`pages`)."""

    statement: Statement
    flag_names: tuple[str, ...]
    split: bool

    def pages(self, result: list, own_holder_id: int | None) -> dict[str, ListPage]:
        """{"own": ..., "others": ...} when split, else {"all": ...}. `own_holder_id`: the
        account's own holder, which marks each mailbox `own`."""
        # The counts' columns come last: the two totals, the version, then the flags.
        own_total, others_total, version, *flagged = result[0][24:]
        read = {name: bool(value) for name, value in zip(self.flag_names, flagged, strict=True)}
        lists: dict[int, list[ListedMailbox]] = {OWN: [], OTHERS: []}
        last = None
        for r in result:
            if r[0] is None:  # the counts row alone: no mailbox on the pages asked for
                continue
            if last is None or last.pk != r[0]:
                last = ListedMailbox(
                    pk=r[0],
                    address=r[1],
                    status=r[2],
                    activated_on=_date(r[3]),
                    expires_on=_date(r[4]),
                    auto_renew=bool(r[5]),
                    usage_mb={"mailbox": r[6], "archive": r[7], "conservation": r[8]},
                    tier_code=r[9],
                    tier_name=r[10],
                    holder_id=r[11],
                    holder_name=Holder.name_of(r[12], r[13], r[14], r[15]),
                    holder_tax_id=r[16] or r[17],
                    own=r[11] == own_holder_id,
                )
                lists[r[18]].append(last)
            if r[19] is not None:
                last.addons.append(ListedAddOn(r[19], r[20], r[21], r[22], r[23]))
        if not self.split:
            return {"all": ListPage(lists[OTHERS], others_total, version, read)}
        return {
            "own": ListPage(lists[OWN], own_total, version, read),
            "others": ListPage(lists[OTHERS], others_total, version, read),
        }


def listing(
    customer_id: int | SqlValue,
    own_holder_id: int | None | SqlValue,
    filters: Filters,
    *,
    today: date,
    size: int,
    own_page: int = 1,
    others_page: int = 1,
    split: bool = True,
    flags: Mapping[str, tuple[str, list]] | None = None,
) -> Listing:
    """The pages asked for, in one statement (to read now with `mailbox_listing`, or with
    other statements: `pecshop.prepared.together`). When `split` (the dashboard) the
    account's own mailboxes and the others' are two lists, else one (the API: `others_page`
    its page number). `flags`: boolean SQL expressions with their parameters, by name, read
    in the same statement (each page's `flags`), such as whether an order may still be
    withdrawn; they come from the code (a prepared query's `exists_sql`), never from a
    request. The account (`customer_id`) and its own holder are ids, or `SqlValue`s (subqueries).

    A page past the end of its list comes back empty, with the list's count."""
    where, params, joins = _where(customer_id, own_holder_id, filters, today)
    flags = flags or {}
    flag_params = [p for _, values in flags.values() for p in values]
    bounds = []
    for number in (own_page, others_page):
        number = min(max(1, number), MAX_PAGE)
        bounds += [(number - 1) * size, number * size]
    own_holder, own_holder_params = _value(own_holder_id)
    sql = _sql(where, own_holder, [expression for expression, _ in flags.values()], joins)
    params = [split, *own_holder_params, *params, *bounds, *flag_params, *HELD]
    return Listing(Statement(sql, params), tuple(flags), split)


def mailbox_listing(
    customer_id: int, own_holder_id: int | None, filters: Filters, **options
) -> dict[str, ListPage]:
    """`listing`'s pages, read now."""
    asked = listing(customer_id, own_holder_id, filters, **options)
    return asked.pages(asked.statement.rows(), own_holder_id)
