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
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from area import mailbox_sessions
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
from area.listing import Filters
from area.previews import preview_facts
from area.selectors import (
    PURCHASES,
    account_mailbox_page,
    addon_rows,
    customer_mailbox,
    customer_mailboxes,
    dashboard_lists,
    mailbox_actions,
    mailbox_catalogue,
    mailbox_events_page,
    offered_action,
    row,
    session_mailbox_orders,
    upgrade_offers,
)
from area.sessions import (
    MAILBOX_SESSION_KEY,  # noqa: F401 - importable from here as before
    SESSION_ORDERS_KEY,  # noqa: F401
    mailbox_session_end,
    mailbox_session_start,
    session_mailbox_id,
    session_order_add,
    session_orders,
)
from billing.catalogue_cache import current_catalogue
from billing.models import Invoice, InvoiceKind, ItemKind, PaymentMethod
from billing.pricing import PricingError, quota_gb
from billing.services.items import ItemSpec, item_quote
from billing.services.orders import OrderError, order_place
from billing.services.withdrawals import space_to_free
from billing.views.common import current_customer, set_request_cart_state
from customers.forms import HolderForm
from customers.models import Customer
from customers.services import holder_create
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.selectors import mailbox_holdings
from mailboxes.services import (
    TransitionError,
    addon_schedule_reduction,
    mailbox_cancel,
    mailbox_change_holder,
    mailbox_set_auto_renew,
)

TOKEN_SALT = "area-purchase"
TOKEN_MAX_AGE = 3600


# --- who is asking ------------------------------------------------------------------------


def area_required(view):
    """A logged-in user, or a session opened with a mailbox's own credentials.

    A user without a customer profile (staff, for instance) sees an empty Area Clienti; the
    profile is created only by a POST (a GET writes nothing).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        mailbox_id = session_mailbox_id(request)
        if mailbox_id and not mailbox_sessions.session_still_valid(request, mailbox_id):
            # The mailbox was cancelled or its password changed: the session ends.
            mailbox_session_end(request)
            if current_customer(request) is None:
                messages.info(request, "La sessione della casella è terminata: accedi di nuovo.")
                return redirect("area:mailbox_login")
        if current_customer(request) is None and not session_mailbox_id(request):
            if not request.user.is_authenticated:
                messages.info(request, "Accedi per entrare nell'Area Clienti.")
                return redirect(f"{reverse('customers:login')}?next={request.path}")
            if request.method == "POST":
                Customer.objects.get_or_create(user=request.user)
        return view(request, *args, **kwargs)

    return wrapper


def _mailbox_only(request) -> int | None:
    if current_customer(request) is not None:
        return None
    return session_mailbox_id(request)


def _mailbox(request, pk: int, *, changes: bool = True) -> Mailbox:
    """The mailbox if this session may see it (and, with `changes`, change it), else 404."""
    customer = current_customer(request)
    if customer is not None:
        mailbox = customer_mailbox(customer, pk)
        if mailbox is None:
            raise Http404
        return mailbox
    if not changes and session_mailbox_id(request) == pk:
        return get_object_or_404(customer_mailboxes(None), pk=pk)
    raise Http404


# --- dashboard and mailbox page ------------------------------------------------------------


@area_required
def dashboard(request):
    only = _mailbox_only(request)
    if only:
        return redirect("area:mailbox", pk=only)
    customer = current_customer(request)
    today = timezone.localdate()
    filters = Filters.from_query(request.GET)
    dashboard = dashboard_lists(
        customer,
        filters,
        today=today,
        own_page=request.GET.get("pagina_mie", 1),
        others_page=request.GET.get("pagina_altri", 1),
    )
    if customer is not None:
        set_request_cart_state(request, dashboard.cart)
    return render(
        request,
        "area/dashboard.html",
        {
            "pages": dashboard.pages,
            "filters": filters,
            "statuses": MailboxStatus.choices,
            "tiers": sorted(dashboard.catalogue.tiers.values(), key=lambda t: t.rank),
            "querystring": request.GET.urlencode(),
            "withdrawable": dashboard.withdrawable,
        },
    )


@area_required
def mailbox_detail(request, pk: int):
    today = timezone.localdate()
    customer = current_customer(request)
    events_page = request.GET.get("eventi", 1)
    if customer is not None:
        # Everything in one round trip; the withdrawable orders are read here, so that the
        # selector deciding the actions stays free of queries.
        reads = account_mailbox_page(customer, pk, events_page=events_page, today=today)
        if reads is None:
            raise Http404
        set_request_cart_state(request, reads.cart)
        mailbox, events, history = reads.mailbox, reads.events, reads.orders
        orders, invoices, withdrawable = history.orders, history.invoices, history.withdrawable
        mailbox_only = False
    else:  # a session opened with the mailbox's own credentials: this session's orders only
        mailbox = _mailbox(request, pk, changes=False)
        events = mailbox_events_page(mailbox, events_page)
        orders, invoices = session_mailbox_orders(mailbox, session_orders(request))
        withdrawable = []
        mailbox_only = True
    catalogue = mailbox_catalogue(mailbox, today)
    info = row(catalogue, mailbox, today)
    return render(
        request,
        "area/mailbox.html",
        {
            "mailbox": mailbox,
            "info": info,
            "addons": addon_rows(catalogue, mailbox, info.holdings),
            "actions": mailbox_actions(
                mailbox,
                today,
                catalogue=catalogue,
                holdings=info.holdings,
                mailbox_only=mailbox_only,
                withdrawable=withdrawable,
            ),
            "events": events,
            "orders": orders,
            "invoices": invoices,
            "mailbox_only": mailbox_only,
            "is_own": mailbox.holder_id == mailbox.customer.own_holder_id,
            "can_change": mailbox.status == MailboxStatus.ACTIVE and not mailbox_only,
            "space_to_free": space_to_free(mailbox, today, catalogue, info.holdings),
        },
    )


# --- buying: form, rateo breakdown, payment method, order --------------------------------

TITLES = {
    "acquista": (ItemKind.ADDON, "Acquista un servizio"),
    "aumenta": (ItemKind.ADDON, "Aumenta lo spazio"),
    "multiutente": (ItemKind.ADDON, "Aggiungi utenti Multiutente"),
    "upgrade": (ItemKind.UPGRADE, "Passa a una tipologia superiore"),
    "rinnova": (ItemKind.RENEWAL, "Rinnova"),
}
ACTIONS = TITLES  # the name other modules knew


def _action_form(offered, data, catalogue, mailbox, holdings, mailbox_only):
    """The form of an action the mailbox offers (`offered`, from `mailbox_actions`): its
    choices are exactly what the selector allows."""
    if offered.code in ("acquista", "multiutente"):
        choices = [(code, catalogue.addon(code).name) for code in offered.choices]
        return AddOnPurchaseForm(data, choices=choices)
    if offered.code == "aumenta":
        choices = [
            (code, f"{catalogue.addon(code).name} (ora {holdings[code]} GB)")
            for code in offered.choices
        ]
        return AddOnPurchaseForm(data, choices=choices)
    if offered.code == "upgrade":
        choices = [(code, catalogue.tier(code).name) for code in offered.choices]
        return UpgradeForm(data, choices=choices)
    return RenewalForm(
        data,
        catalogue=catalogue,
        mailbox=mailbox,
        holdings=holdings,
        to_tier=offered.to_tier,
        addable=offered.choices,
        changes_allowed=not mailbox_only,
    )


@area_required
def mailbox_action(request, pk: int, action: str):
    if action not in PURCHASES:
        raise Http404
    mailbox_only = _mailbox_only(request) is not None
    if mailbox_only and action != "rinnova":
        raise Http404
    mailbox = _mailbox(request, pk, changes=action != "rinnova")
    kind, title = TITLES[action]
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
    # A renewal's target tier: the one chosen in the form, else the link's, else the same.
    target = ""
    if action == "rinnova":
        target = (data or {}).get("to_tier") or request.GET.get("tipologia", "")
    actions = mailbox_actions(
        mailbox, today, catalogue=catalogue, holdings=holdings, mailbox_only=mailbox_only
    )
    offered = offered_action(actions, action, target) or offered_action(actions, action)
    context = {
        "mailbox": mailbox,
        "action": action,
        "title": title,
        "offers": upgrade_offers(catalogue, mailbox, holdings, today),
    }
    if offered is None:
        return render(request, "area/action_unavailable.html", context)
    form = _action_form(offered, data, catalogue, mailbox, holdings, mailbox_only)
    context["form"] = form

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
            context.update(
                preview_facts(
                    action=action,
                    mailbox=mailbox,
                    params=spec.params,
                    holdings=holdings,
                    catalogue=catalogue,
                )
            )
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
        session_order_add(request, order.number)
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
            order__number__in=session_orders(request),
            order__items__mailbox_id=session_mailbox_id(request),
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
    if request.method == "POST" and (locked := mailbox_sessions.locked_out(request)):
        return locked
    form = MailboxLoginForm(request.POST or None)
    if request.method == "POST" and not form.is_valid():
        mailbox_sessions.login_failed(request)
    if request.method == "POST" and form.is_valid():
        mailbox_session_start(request, form.mailbox.pk)
        mailbox_sessions.login_succeeded(request, form.mailbox)
        return redirect("area:mailbox", pk=form.mailbox.pk)
    return render(
        request,
        "area/mailbox_login.html",
        {"form": form, "forms_with_errors": [form] if form.errors else []},
    )
