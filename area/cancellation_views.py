"""Revoca disdetta: its own page with a confirmation, never a side effect of another switch."""

from django.contrib import messages
from django.shortcuts import redirect, render

from area.views import _mailbox, area_required
from mailboxes.services import TransitionError, mailbox_revoke_cancellation


@area_required
def cancellation_revoke(request, pk: int):
    mailbox = _mailbox(request, pk)
    if not mailbox.cancel_at_expiry:
        messages.info(request, "La casella non ha una disdetta da revocare.")
        return redirect("area:mailbox", pk=mailbox.pk)
    if request.method == "POST":
        try:
            mailbox_revoke_cancellation(mailbox=mailbox, actor=request.user)
        except TransitionError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                "Disdetta revocata: la casella non sarà cancellata alla scadenza. "
                "Puoi rinnovarla o attivare il rinnovo automatico.",
            )
        return redirect("area:mailbox", pk=mailbox.pk)
    return render(request, "area/cancel_revoke.html", {"mailbox": mailbox})
