from billing.lifecycle import cancel_unpaid_orders
from mailboxes.management.base import DailyJobCommand


class Command(DailyJobCommand):
    help = "Cancel the bank-transfer orders still unpaid after 15 days."
    with_batch_size = False

    def run(self, *, today, options):
        return cancel_unpaid_orders(today=today)
