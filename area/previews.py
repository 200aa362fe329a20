"""What a preview says besides the price: the service an increase is about, and the dates a
renewal leads to. Pure: the mailbox, the previewed parameters and the holdings are given."""

from datetime import date, timedelta

from billing.pricing import Catalogue
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.terms import add_years, grace_ends_on


def preview_facts(
    *, action: str, mailbox: Mailbox, params: dict, holdings: dict[str, int], catalogue: Catalogue
) -> dict:
    facts: dict = {}
    if action == "rinnova" and mailbox.expires_on:
        # The renewal counts from the old expiry, never from today (DOMAIN: renewal).
        facts["new_expires_on"] = add_years(mailbox.expires_on, int(params["years"]))
        if mailbox.status == MailboxStatus.EXPIRED:
            ends: date = grace_ends_on(mailbox.expires_on)
            facts["grace_ends_on"] = ends
            facts["last_renewal_day"] = ends - timedelta(days=1)
    if action == "aumenta":
        [(code, quantity)] = params["add"].items()
        addon = catalogue.addon(code)
        now = holdings.get(code, 0)
        facts["increase"] = {
            "name": addon.name,
            "now": addon.units(now),
            "after": addon.units(now + quantity),
            "added": addon.units(quantity),
        }
    return facts
