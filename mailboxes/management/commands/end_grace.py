from mailboxes.lifecycle import end_grace
from mailboxes.management.base import DailyJobCommand


class Command(DailyJobCommand):
    help = "Cancel the mailboxes expired for the whole grace period (90 days), with their add-ons."

    def run(self, *, today, options):
        return end_grace(today=today, batch_size=options["batch_size"])
