from mailboxes.lifecycle import apply_term_changes
from mailboxes.management.base import DailyJobCommand


class Command(DailyJobCommand):
    help = "Apply the tier and add-on changes scheduled by early renewals for the new term."

    def run(self, *, today, options):
        return apply_term_changes(today=today, batch_size=options["batch_size"])
