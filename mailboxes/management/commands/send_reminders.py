from mailboxes.lifecycle import reminders, reminders_send
from mailboxes.management.base import DailyJobCommand


class Command(DailyJobCommand):
    help = (
        "Record and e-mail the renewal reminders due (90, 60, 30, 15, 7, 1 days before the "
        "expiry and in the grace period), each once per mailbox and expiry date."
    )

    def run(self, *, today, options):
        return {
            **reminders(today=today, batch_size=options["batch_size"]),
            **reminders_send(today=today),
        }
