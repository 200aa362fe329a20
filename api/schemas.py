"""The shapes of the API's requests and answers (they make the OpenAPI schema)."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import BaseModel

Money = str  # "12.20": two decimals, a dot, never a float
PaymentMethodIn = Literal["card", "paypal", "bank_transfer"]
Quantities = dict[str, int]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Out(BaseModel):
    """An answer. The selectors build answers as dicts, which pydantic checks directly;
    ninja's Schema would read each field through its getter for ORM objects, several times
    the cost on a page of 20 mailboxes."""


class ErrorOut(Out):
    error: str = Field(description="Il messaggio, in italiano")
    field: str | None = Field(None, description="Il campo della richiesta a cui si riferisce")


# --- mailboxes ------------------------------------------------------------------------------


class HolderOut(Out):
    id: int
    name: str
    tax_id: str


class MailboxAddOnOut(Out):
    code: str
    name: str
    quantity: int
    status: str
    next_quantity: int | None


class UsageOut(Out):
    quota: str
    used_mb: int
    quota_gb: int
    percent: int


class MailboxOut(Out):
    id: int
    address: str
    tier: str
    tier_name: str
    status: str
    status_label: str
    activated_on: date | None
    expires_on: date | None
    expiring: bool
    own: bool = Field(description="Vero per «Le mie caselle PEC», falso per altri titolari")
    holder: HolderOut
    auto_renew: bool
    addons: list[MailboxAddOnOut]
    usage: list[UsageOut]


class MailboxPage(Out):
    count: int
    page: int
    pages: int
    page_size: int
    items: list[MailboxOut]


class MailboxFilters(BaseModel):
    # pydantic's BaseModel rather than ninja's Schema (as `Out`): the same parameters and
    # schema, without Schema's getter pass over the query on every request.
    q: str = Field("", max_length=100, description="Indirizzo, nome del titolare, CF o P.IVA")
    status: Literal["pending", "active", "expired", "cancelled"] | None = None
    tier: str | None = Field(None, max_length=20)
    expiry: Literal["30", "expired"] | None = Field(
        None, description="«30»: attive in scadenza entro 30 giorni; «expired»: scadute"
    )
    holder: Literal["own", "others"] | None = None
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


# --- quotes and orders ------------------------------------------------------------------------


class AddOnIn(Schema):
    mailbox_id: int = Field(..., ge=1, le=2**31 - 1)
    add: Quantities = Field(..., description="Codice del servizio -> unità da acquistare")


class RenewalIn(Schema):
    mailbox_id: int = Field(..., ge=1, le=2**31 - 1)
    years: int = Field(..., ge=1, le=5)
    to_tier: str | None = Field(None, max_length=20)
    keep: Quantities = Field(default_factory=dict)
    add: Quantities = Field(default_factory=dict)
    confirm_archive_loss: bool = False


class UpgradeIn(Schema):
    mailbox_id: int = Field(..., ge=1, le=2**31 - 1)
    to_tier: str = Field(..., max_length=20)
    add: Quantities = Field(default_factory=dict)


class NewMailboxIn(Schema):
    tier: str = Field(..., max_length=20)
    local_part: str = Field(..., max_length=64)
    domain: str | None = Field(None, max_length=100)
    years: int = Field(..., ge=1, le=5)
    addons: Quantities = Field(default_factory=dict)
    holder_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Il titolare; senza, quello dell'account"
    )


class NewMailboxesIn(Schema):
    mailboxes: list[NewMailboxIn] = Field(..., min_length=1, max_length=99)


class AlignmentIn(Schema):
    mailbox_ids: list[Id] = Field(..., min_length=1, max_length=1000)
    target: date


class Payment(Schema):
    payment_method: PaymentMethodIn = "card"
    pay_with_saved_card: bool = Field(
        False,
        description="Con «card»: addebita subito l'ordine sulla carta salvata dell'account "
        "(quella dei rinnovi automatici). Senza carta salvata la richiesta è rifiutata (400) "
        "e nessun ordine è creato; un addebito rifiutato lascia l'ordine da pagare dal link.",
    )


class AddOnOrderIn(AddOnIn, Payment):
    pass


class RenewalOrderIn(RenewalIn, Payment):
    pass


class UpgradeOrderIn(UpgradeIn, Payment):
    pass


class NewMailboxesOrderIn(NewMailboxesIn, Payment):
    pass


class AlignmentOrderIn(AlignmentIn, Payment):
    pass


class LineOut(Out):
    kind: str
    code: str
    description: str
    quantity: int
    months: int
    unit_price: Money
    net: Money


class QuoteOut(Out):
    months: int
    lines: list[LineOut]
    notes: list[str]
    net: Money
    vat: Money
    total: Money


class AlignmentRowOut(Out):
    mailbox_id: int
    address: str
    expires_on: date
    months: int
    net: Money


class AlignmentQuoteOut(QuoteOut):
    target: date
    mailboxes: list[AlignmentRowOut]


class BankTransferOut(Out):
    beneficiary: str
    iban: str
    reference: str


class SavedCardChargeOut(Out):
    status: Literal["charged", "declined", "pending"] = Field(
        description="«charged»: pagato; «declined»: rifiutato (l'ordine resta da pagare)"
    )
    card: str = Field(description="La carta, es. «Visa •••• 4242»")
    message: str


class InvoiceRefOut(Out):
    id: int
    number: str
    kind: str
    pdf_url: str
    xml_url: str


class OrderLineOut(Out):
    mailbox_id: int | None
    kind: str
    code: str
    description: str
    quantity: int
    months: int
    unit_price: Money
    net: Money


class OrderOut(Out):
    number: str
    status: str
    status_label: str
    payment_method: str
    placed_on: date
    paid_at: datetime | None
    net: Money
    vat: Money
    total: Money
    lines: list[OrderLineOut]
    payment_url: str | None = Field(
        description="Dove pagare con carta o PayPal (dopo l'accesso all'Area Clienti)"
    )
    bank_transfer: BankTransferOut | None
    saved_card_charge: SavedCardChargeOut | None = Field(
        description="L'ultimo addebito dell'ordine sulla carta salvata, se ce n'è uno"
    )
    invoices: list[InvoiceRefOut]


class OrderPage(Out):
    count: int
    page: int
    pages: int
    page_size: int
    items: list[OrderOut]


class InvoiceLineOut(Out):
    code: str
    description: str
    quantity: int
    months: int
    unit_price: Money
    net: Money


class InvoiceOut(Out):
    id: int
    number: str
    kind: str
    issued_on: date
    order_number: str
    net: Money
    vat: Money
    total: Money
    pdf_url: str
    xml_url: str
    lines: list[InvoiceLineOut]


class InvoicePage(Out):
    count: int
    page: int
    pages: int
    page_size: int
    items: list[InvoiceOut]


class Paging(Schema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


class InvoiceFilters(Paging):
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
