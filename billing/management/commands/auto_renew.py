from billing.lifecycle import auto_renew
from mailboxes.management.base import DailyJobCommand


class Command(DailyJobCommand):
    help = (
        "Automatic renewals: from 7 days before the expiry, place the renewal order and charge "
        "the saved payment method, once a day until it succeeds or the mailbox expires."
    )
    with_batch_size = False

    def run(self, *, today, options):
        return auto_renew(today=today)
