"""The account's holder profiles (titolari): its own and the saved others.

Only the account reaches them: another account's holder is a 404, and so is every page
here for a session opened with a mailbox's own credentials.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from area.views import area_required
from billing.views.common import current_customer
from customers.forms import HolderProfileForm
from customers.models import Customer, Holder
from customers.selectors import account_holders
from customers.services import holder_create, holder_delete, holder_in_use, holder_update


def _account(request) -> Customer:
    customer = current_customer(request)
    if customer is None:
        raise Http404
    return customer


def _holder(customer: Customer, pk: int) -> Holder:
    return get_object_or_404(customer.holders, pk=pk)


def _form_page(request, template_context: dict, form: HolderProfileForm):
    return render(
        request,
        "area/holder_form.html",
        {**template_context, "form": form, "forms_with_errors": [form] if form.errors else []},
    )


@area_required
def holder_list(request):
    own, others = account_holders(_account(request))
    return render(request, "area/holders.html", {"own": own, "others": others})


@area_required
def holder_new(request):
    customer = _account(request)
    offer_own = customer.own_holder_id is None
    form = HolderProfileForm(
        request.POST or None,
        customer=customer,
        offer_own=offer_own,
        initial={"own": request.GET.get("own") == "1"},
    )
    if request.method == "POST" and form.is_valid():
        own = offer_own and form.cleaned_data.get("own", False)
        try:
            holder = holder_create(customer=customer, own=own, **form.holder_fields())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Titolare {holder.display_name} salvato.")
            return redirect("area:holders")
    return _form_page(request, {"title": "Nuovo titolare"}, form)


@area_required
def holder_edit(request, pk: int):
    customer = _account(request)
    holder = _holder(customer, pk)
    locked = holder_in_use(holder)
    name = holder.display_name  # as saved: the form writes what is typed onto `holder`
    form = HolderProfileForm(
        request.POST or None, instance=holder, customer=customer, locked=locked
    )
    if request.method == "POST" and form.is_valid():
        try:
            holder = holder_update(holder=holder, **form.holder_fields())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Dati di {holder.display_name} aggiornati.")
            return redirect("area:holders")
    return _form_page(request, {"title": f"Modifica {name}", "locked": locked}, form)


@area_required
def holder_remove(request, pk: int):
    customer = _account(request)
    holder = _holder(customer, pk)
    error = None
    if request.method == "POST":
        try:
            holder_delete(holder=holder)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(request, f"Titolare {holder.display_name} eliminato.")
            return redirect("area:holders")
    return render(request, "area/holder_delete.html", {"holder": holder, "error": error})
