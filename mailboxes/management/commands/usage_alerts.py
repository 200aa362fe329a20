from mailboxes.lifecycle import usage_alerts, usage_alerts_send
from mailboxes.management.base import DailyJobCommand


class Command(DailyJobCommand):
    help = "Alert by e-mail the mailboxes whose usage crossed 70% or 90% of a quota."

    def run(self, *, today, options):
        return {
            **usage_alerts(today=today, batch_size=options["batch_size"]),
            **usage_alerts_send(today=today),
        }
