"""Revoca disdetta: a disdetta at expiry is withdrawn on its own page, with a confirmation."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from area.views import _mailbox, area_required
from mailboxes.services import TransitionError, mailbox_revoke_cancellation


class RevokeCancellationForm(forms.Form):
    confirm = forms.BooleanField(
        label="Confermo: la casella non sarà cancellata alla scadenza",
        error_messages={"required": "Spunta la conferma per revocare la disdetta."},
    )


@area_required
def revoke_cancellation(request, pk: int):
    mailbox = _mailbox(request, pk)
    if not mailbox.cancel_at_expiry:
        messages.info(request, "La casella non ha una disdetta da revocare.")
        return redirect("area:mailbox", pk=mailbox.pk)
    form = RevokeCancellationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox_revoke_cancellation(mailbox=mailbox, actor=request.user)
        except TransitionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                "Disdetta revocata: la casella non sarà cancellata alla scadenza. Il rinnovo "
                "automatico resta disattivato: puoi attivarlo dalla pagina della casella.",
            )
            return redirect("area:mailbox", pk=mailbox.pk)
    return render(
        request,
        "area/revoke_cancellation.html",
        {"mailbox": mailbox, "form": form, "forms_with_errors": [form] if form.errors else []},
    )
