from mailboxes.lifecycle import expire_mailboxes
from mailboxes.management.base import DailyJobCommand


class Command(DailyJobCommand):
    help = (
        "Expire the active mailboxes whose expiry has come, with their add-ons; those with a "
        "disdetta at expiry are cancelled instead."
    )

    def run(self, *, today, options):
        return expire_mailboxes(today=today, batch_size=options["batch_size"])
