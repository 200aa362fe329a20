"""The Area Clienti: dashboard, mailbox page and the actions of the seed.

Every query is scoped to the logged-in customer: another customer's mailbox, order or
invoice is a 404. A session opened with a mailbox's own credentials sees that mailbox only
and may renew it, nothing else.
"""

import uuid
from functools import wraps

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from area.forms import (
    AddOnPurchaseForm,
    CancellationForm,
    HolderChoiceForm,
    MailboxLoginForm,
    PaymentChoiceForm,
    ReductionForm,
    RenewalForm,
    UpgradeForm,
)
from area.selectors import (
    Filters,
    addon_rows,
    customer_mailboxes,
    dashboard_lists,
    row,
)
from billing.catalogue_cache import cached_fragment, current_catalogue
from billing.models import Invoice, InvoiceKind, ItemKind, Order, PaymentMethod
from billing.pricing import PricingError, quota_gb, quote_upgrade
from billing.services.cart import cart_state, customer_cart_state_key
from billing.services.items import ItemSpec, item_quote
from billing.services.orders import OrderError, order_place
from billing.services.withdrawals import space_to_free, withdrawable_orders
from billing.views.common import current_customer, set_request_cart_state
from customers.forms import HolderForm
from customers.models import Customer
from customers.services import holder_create
from mailboxes.lifecycle import mailbox_cancel
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.selectors import mailbox_holdings
from mailboxes.services import TransitionError, addon_schedule_reduction, mailbox_set_auto_renew
from mailboxes.staff import mailbox_change_holder
from pecshop.account_versions import account_version

MAILBOX_SESSION_KEY = "area_mailbox_id"
SESSION_ORDERS_KEY = "area_orders"  # orders placed in a mailbox-credential session
TOKEN_SALT = "area-purchase"
TOKEN_MAX_AGE = 3600


# --- who is asking ------------------------------------------------------------------------


def area_required(view):
    """A logged-in customer, or a session opened with a mailbox's own credentials."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if current_customer(request) is None and not request.session.get(MAILBOX_SESSION_KEY):
            if request.user.is_authenticated:
                Customer.objects.get_or_create(user=request.user)
            else:
                messages.info(request, "Accedi per entrare nell'Area Clienti.")
                return redirect(f"{reverse('customers:login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


def _mailbox_only(request) -> int | None:
    if current_customer(request) is not None:
        return None
    return request.session.get(MAILBOX_SESSION_KEY)


def _session_orders(request) -> list[str]:
    """The numbers of the orders placed in a mailbox-credential session."""
    return request.session.get(SESSION_ORDERS_KEY, [])


def _mailbox(request, pk: int, *, changes: bool = True) -> Mailbox:
    """The mailbox if this session may see it (and, with `changes`, change it), else 404."""
    customer = current_customer(request)
    if customer is not None:
        return get_object_or_404(customer_mailboxes(customer), pk=pk)
    if not changes and request.session.get(MAILBOX_SESSION_KEY) == pk:
        return get_object_or_404(
            Mailbox.objects.select_related("tier", "holder", "customer__own_holder"), pk=pk
        )
    raise Http404


# --- dashboard and mailbox page ------------------------------------------------------------


def _kept_page(request, customer, render_page) -> HttpResponse:
    """The page `render_page()` renders, kept in this process's memory and served again until
    anything it shows changes: the account (see pecshop.account_versions), the cart in the
    header, the catalogue or the day. The key names the customer, so a kept page is served
    only to the account it was rendered (and authorized) for, and the browser's CSRF secret,
    since the page's forms carry a token good only with that browser's cookie. A page with
    messages to show is never kept."""
    csrf_secret = request.META.get("CSRF_COOKIE")
    if (
        not csrf_secret
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or len(messages.get_messages(request))
    ):
        return render_page()
    cart_key = customer_cart_state_key(customer.pk)
    version, found = account_version(customer.pk, also=[cart_key])
    cart = cart_state(customer=customer, cached=found.get(cart_key))
    set_request_cart_state(request, cart)
    key = ":".join(
        [
            "area-page",
            str(customer.pk),
            version,
            f"{cart.version}-{cart.count}" if cart else "",
            csrf_secret,
            request.user.get_username(),
            request.user.email,
            get_language(),
            request.get_full_path(),
        ]
    )

    # The pages kept here render a 200 or raise Http404 (nothing is kept then).
    return HttpResponse(cached_fragment(key, lambda: render_page().content))


@area_required
def dashboard(request):
    only = _mailbox_only(request)
    if only:
        return redirect("area:mailbox", pk=only)
    customer = current_customer(request)
    return _kept_page(request, customer, lambda: _dashboard_page(request, customer))


def _dashboard_page(request, customer) -> HttpResponse:
    today = timezone.localdate()
    filters = Filters(
        q=request.GET.get("q", "")[:100],
        status=request.GET.get("stato", "")
        if request.GET.get("stato") in MailboxStatus.values
        else "",
        tier=request.GET.get("tipologia", "")[:20],
        expiry=request.GET.get("scadenza", "")
        if request.GET.get("scadenza") in {"30", "expired"}
        else "",
    )
    pages = dashboard_lists(
        customer,
        filters,
        today=today,
        own_page=request.GET.get("pagina_mie", 1),
        others_page=request.GET.get("pagina_altri", 1),
    )
    tiers = sorted(current_catalogue(today).tiers.values(), key=lambda t: t.rank)
    return render(
        request,
        "area/dashboard.html",
        {
            "pages": pages,
            "filters": filters,
            "statuses": MailboxStatus.choices,
            "tiers": tiers,
            "query": request.GET.copy(),
            "withdrawable": withdrawable_orders(customer=customer, today=today).exists(),
        },
    )


@area_required
def mailbox_detail(request, pk: int):
    customer = current_customer(request)
    if customer is None:  # a mailbox-credential session: its own mailbox, rendered each time
        return _mailbox_page(request, pk)
    return _kept_page(request, customer, lambda: _mailbox_page(request, pk))


def _mailbox_page(request, pk: int) -> HttpResponse:
    mailbox = _mailbox(request, pk, changes=False)
    today = timezone.localdate()
    catalogue = current_catalogue(today)
    info = row(catalogue, mailbox, today)
    addons = addon_rows(catalogue, mailbox, info.holdings)
    events = Paginator(
        mailbox.events.select_related("actor").order_by("-created_at", "-id"), 20
    ).get_page(request.GET.get("eventi", 1))
    orders = Order.objects.filter(items__mailbox=mailbox, customer_id=mailbox.customer_id)
    if _mailbox_only(request):  # the account's orders stay the account's
        orders = orders.filter(number__in=_session_orders(request))
    orders = list(orders.distinct().order_by("-created_at")[:20])
    invoices = list(
        mailbox.customer.invoices.filter(order__in=[o.pk for o in orders]).order_by(
            "-issued_on", "-number"
        )
    )
    is_own = mailbox.holder_id == mailbox.customer.own_holder_id
    return render(
        request,
        "area/mailbox.html",
        {
            "mailbox": mailbox,
            "info": info,
            "addons": addons,
            "events": events,
            "orders": orders,
            "invoices": invoices,
            "mailbox_only": _mailbox_only(request) is not None,
            "is_own": is_own,
            "can_change": mailbox.status == MailboxStatus.ACTIVE and _mailbox_only(request) is None,
            "can_renew": mailbox.status in (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED),
            "higher_tiers": [t for t in catalogue.tiers.values() if t.rank > mailbox.tier.rank],
            "withdrawable": []
            if _mailbox_only(request)
            else withdrawable_orders(customer=mailbox.customer, today=today, mailbox=mailbox),
            "space_to_free": space_to_free(mailbox, today, catalogue, info.holdings),
        },
    )


# --- buying: form, rateo breakdown, payment method, order --------------------------------

ACTIONS = {
    "acquista": (ItemKind.ADDON, "Acquista un servizio"),
    "aumenta": (ItemKind.ADDON, "Aumenta lo spazio"),
    "multiutente": (ItemKind.ADDON, "Aggiungi utenti Multiutente"),
    "upgrade": (ItemKind.UPGRADE, "Passa a una tipologia superiore"),
    "rinnova": (ItemKind.RENEWAL, "Rinnova"),
}


def _action_form(action, data, catalogue, mailbox, holdings, mailbox_only):
    tier = mailbox.tier.code
    if action == "acquista":
        choices = [
            (code, catalogue.addon(code).name)
            for code in catalogue.ordered(catalogue.addons)
            if catalogue.rule(tier, code).sold and code not in holdings and code != "MULTIUTENTE"
        ]
        return AddOnPurchaseForm(data, choices=choices) if choices else None
    if action == "aumenta":
        choices = [
            (code, f"{catalogue.addon(code).name} (ora {holdings[code]} GB)")
            for code in catalogue.ordered(holdings)
            if catalogue.addon(code).unit == "GB" and catalogue.rule(tier, code).sold
        ]
        return AddOnPurchaseForm(data, choices=choices) if choices else None
    if action == "multiutente":
        if not catalogue.rule(tier, "MULTIUTENTE").sold:
            return None
        return AddOnPurchaseForm(
            data, choices=[("MULTIUTENTE", catalogue.addon("MULTIUTENTE").name)]
        )
    if action == "upgrade":
        current = catalogue.tier(tier)
        choices = [
            (t.code, t.name)
            for t in sorted(catalogue.tiers.values(), key=lambda t: t.rank)
            if t.rank > current.rank
        ]
        return UpgradeForm(data, choices=choices) if choices else None
    return RenewalForm(
        data,
        catalogue=catalogue,
        mailbox=mailbox,
        holdings=holdings,
        changes_allowed=not mailbox_only,
    )


def _upgrade_offers(catalogue, mailbox, holdings, today):
    """The seed's comparison: the price of moving to each higher tier, for the months left."""
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


@area_required
def mailbox_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    mailbox_only = _mailbox_only(request) is not None
    if mailbox_only and action != "rinnova":
        raise Http404
    mailbox = _mailbox(request, pk, changes=action != "rinnova")
    kind, title = ACTIONS[action]
    today = timezone.localdate()
    catalogue = current_catalogue(today)
    holdings = mailbox_holdings(mailbox)
    if mailbox.status == MailboxStatus.CANCELLED:
        messages.error(request, "La casella è cancellata: non si può acquistare nulla.")
        return redirect("area:mailbox", pk=mailbox.pk)
    if kind != ItemKind.RENEWAL and mailbox.status != MailboxStatus.ACTIVE:
        messages.error(request, "La casella è scaduta: si può solo rinnovare.")
        return redirect("area:mailbox", pk=mailbox.pk)

    data = request.POST if request.method == "POST" and "token" not in request.POST else None
    form = _action_form(action, data, catalogue, mailbox, holdings, mailbox_only)
    context = {
        "mailbox": mailbox,
        "action": action,
        "title": title,
        "form": form,
        "offers": _upgrade_offers(catalogue, mailbox, holdings, today),
    }
    if form is None:
        return render(request, "area/action_unavailable.html", context)

    if request.method == "POST" and "token" in request.POST:
        return _confirm(request, mailbox, context)
    if data is not None and form.is_valid():
        spec = ItemSpec(kind, form.item_params(), mailbox.pk)
        try:
            quote = item_quote(catalogue, spec, today=today, mailbox=mailbox)
        except PricingError as error:
            form.add_error(None, error.message)
        else:
            token = signing.dumps(
                {
                    "mailbox": mailbox.pk,
                    "kind": kind,
                    "params": spec.params,
                    "key": uuid.uuid4().hex,
                },
                salt=TOKEN_SALT,
            )
            context.update(quote=quote, payment_form=PaymentChoiceForm(initial={"token": token}))
            return render(request, "area/action_preview.html", context)
    context["forms_with_errors"] = [form] if form.errors else []
    return render(request, "area/action.html", context)


def _confirm(request, mailbox, context):
    """ "Prosegui": place the order exactly as previewed (re-validated) and go to payment."""
    form = PaymentChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Scegli il metodo di pagamento.")
        return redirect("area:mailbox", pk=mailbox.pk)
    try:
        payload = signing.loads(form.cleaned_data["token"], salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, "La richiesta è scaduta: ripeti l'operazione.")
        return redirect("area:mailbox", pk=mailbox.pk)
    if payload["mailbox"] != mailbox.pk:
        raise Http404
    try:
        order = order_place(
            customer=mailbox.customer,
            items=[ItemSpec(payload["kind"], payload["params"], mailbox.pk)],
            payment_method=form.cleaned_data["payment_method"],
            placement_key=payload["key"],
            today=timezone.localdate(),
            actor=request.user if request.user.is_authenticated else None,
        )
    except OrderError as error:
        messages.error(request, error.message)
        return redirect("area:mailbox", pk=mailbox.pk)
    if _mailbox_only(request):
        request.session[SESSION_ORDERS_KEY] = [*_session_orders(request), order.number]
    if order.payment_method == PaymentMethod.BANK_TRANSFER:
        return redirect("billing:order_done", number=order.number)
    return redirect("billing:order_pay", number=order.number)


# --- settings of a mailbox ------------------------------------------------------------------


@area_required
def mailbox_reduce(request, pk: int):
    mailbox = _mailbox(request, pk)
    catalogue = current_catalogue()
    holdings = mailbox_holdings(mailbox)
    choices = [
        (code, f"{catalogue.addon(code).name} (ora {holdings[code]} GB)")
        for code in catalogue.ordered(holdings)
        if catalogue.addon(code).unit == "GB" and catalogue.addon(code).quota
    ]
    form = ReductionForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["addon"]
        try:
            addon_schedule_reduction(
                mailbox=mailbox,
                addon=next(a.addon for a in mailbox.addons.all() if a.addon.code == code),
                quantity=form.cleaned_data["quantity"],
                # What the tier itself includes of that quota (the add-on's own GB aside).
                included_gb=quota_gb(catalogue, mailbox.tier.code, {}, catalogue.addon(code).quota),
                actor=request.user if request.user.is_authenticated else None,
            )
        except TransitionError as error:
            form.add_error("quantity", str(error))
        else:
            messages.success(request, "Riduzione programmata: vale dal prossimo rinnovo.")
            return redirect("area:mailbox", pk=mailbox.pk)
    return render(
        request,
        "area/reduce.html",
        {"mailbox": mailbox, "form": form, "forms_with_errors": [form] if form.errors else []},
    )


@area_required
@require_POST
def mailbox_auto_renew(request, pk: int):
    mailbox = _mailbox(request, pk)
    enabled = request.POST.get("enabled") == "1"
    try:
        mailbox_set_auto_renew(mailbox=mailbox, enabled=enabled, actor=request.user)
    except TransitionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "Rinnovo automatico attivato." if enabled else "Rinnovo automatico disattivato.",
        )
    return redirect("area:mailbox", pk=mailbox.pk)


@area_required
def mailbox_cancel_view(request, pk: int):
    mailbox = _mailbox(request, pk)
    form = CancellationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        at_expiry = form.cleaned_data["when"] == "expiry"
        try:
            mailbox_cancel(
                mailbox=mailbox,
                today=timezone.localdate(),
                at_expiry=at_expiry,
                actor=request.user,
                reason="disdetta del cliente",
            )
        except TransitionError as error:
            form.add_error("when", str(error))
        else:
            messages.success(
                request,
                f"Disdetta registrata: la casella sarà cancellata il {mailbox.expires_on:%d/%m/%Y}."
                if at_expiry
                else "La casella è stata cancellata.",
            )
            return redirect("area:mailbox", pk=mailbox.pk)
    return render(
        request,
        "area/cancel.html",
        {"mailbox": mailbox, "form": form, "forms_with_errors": [form] if form.errors else []},
    )


@area_required
def mailbox_holder(request, pk: int):
    mailbox = _mailbox(request, pk)
    customer = mailbox.customer
    choices = [
        (str(h.pk), f"{h.display_name} ({h.tax_id})")
        for h in customer.holders.exclude(pk=mailbox.holder_id)
    ]
    choices.append(("new", "Un nuovo titolare"))
    data = request.POST or None
    choice = HolderChoiceForm(data, choices=choices)
    wants_new = data is not None and data.get("holder") == "new"
    holder_form = HolderForm(data if wants_new else None, prefix="h", customer=customer)
    if data is not None and choice.is_valid() and (not wants_new or holder_form.is_valid()):
        try:
            with transaction.atomic():
                if wants_new:
                    holder = holder_create(customer=customer, **holder_form.holder_fields())
                else:
                    holder = customer.holders.get(pk=int(choice.cleaned_data["holder"]))
                mailbox_change_holder(
                    mailbox=mailbox,
                    holder=holder,
                    actor=request.user,
                    reason="richiesta del cliente",
                )
        except (ValidationError, TransitionError) as error:
            choice.add_error(None, "; ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(
                request, f"Il titolare di {mailbox.address} è ora {holder.display_name}."
            )
            return redirect("area:mailbox", pk=mailbox.pk)
    errors = [f for f in (choice, holder_form) if f.is_bound and f.errors]
    return render(
        request,
        "area/holder.html",
        {
            "mailbox": mailbox,
            "choice": choice,
            "holder_form": holder_form,
            "forms_with_errors": errors,
        },
    )


# --- documents ------------------------------------------------------------------------------


@area_required
def invoice_download(request, pk: int, fmt: str):
    from billing.documents import document_from_invoice, invoice_fatturapa_xml, invoice_pdf

    customer = current_customer(request)
    if customer is not None:
        invoices = customer.invoices.all()
    else:  # a mailbox-credential session: the documents of the orders it placed
        invoices = Invoice.objects.filter(
            order__number__in=_session_orders(request),
            order__items__mailbox_id=request.session.get(MAILBOX_SESSION_KEY),
        ).distinct()
    invoice = get_object_or_404(invoices.select_related("order"), pk=pk)
    document = document_from_invoice(invoice)
    name = f"{'fattura' if invoice.kind == InvoiceKind.INVOICE else 'nota-di-credito'}-{invoice.year}-{invoice.number}"
    if fmt == "pdf":
        response = HttpResponse(invoice_pdf(document), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    elif fmt == "xml":
        response = HttpResponse(invoice_fatturapa_xml(document), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{name}.xml"'
    else:
        raise Http404
    return response


# --- entering with a mailbox's own credentials -----------------------------------------------


def mailbox_login(request):
    form = MailboxLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        request.session.cycle_key()
        if request.session.get(MAILBOX_SESSION_KEY) != form.mailbox.pk:
            # What another mailbox's session placed stays with that mailbox.
            request.session.pop(SESSION_ORDERS_KEY, None)
        request.session[MAILBOX_SESSION_KEY] = form.mailbox.pk
        return redirect("area:mailbox", pk=form.mailbox.pk)
    return render(
        request,
        "area/mailbox_login.html",
        {"form": form, "forms_with_errors": [form] if form.errors else []},
    )
