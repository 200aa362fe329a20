"""Every write to a mailbox, its add-ons and its history, by topic:

- `transitions`: the status moves from the one transition map (mailboxes/models.py), the
  cascade to the add-ons, the history (`event_record`);
- `purchases`: a new mailbox, activation, add-ons, renewal, upgrade, a scheduled reduction;
- `changes`: disdetta, automatic renewal, holder, extension, usage, a reminder sent again;
- `platform`: the calls to the mail platform, recorded in the transaction, run after commit.

The Area Clienti, the admin, billing and the jobs import them from here. The set-based jobs
(mailboxes/lifecycle.py) write SQL but take their moves from `transitions`.
"""

from mailboxes.services.changes import (
    MAX_EXTENSION_DAYS,
    mailbox_cancel,
    mailbox_change_holder,
    mailbox_extend,
    mailbox_reminder_resend,
    mailbox_revoke_cancellation,
    mailbox_set_auto_renew,
    mailbox_set_usage,
    mailbox_staff_cancel,
)
from mailboxes.services.platform import (
    PLATFORM_ACTION,
    provisioning_enqueue,
    provisioning_retry_pending,
    provisioning_run,
    quotas_payload,
)
from mailboxes.services.purchases import (
    addon_attach,
    addon_schedule_reduction,
    mailbox_activate,
    mailbox_create,
    mailbox_renew,
    mailbox_upgrade,
)
from mailboxes.services.transitions import (
    TransitionError,
    addon_cascade,
    event_record,
    mailbox_move_check,
    mailbox_transition,
)

__all__ = [
    "MAX_EXTENSION_DAYS",
    "PLATFORM_ACTION",
    "TransitionError",
    "addon_attach",
    "addon_cascade",
    "addon_schedule_reduction",
    "event_record",
    "mailbox_activate",
    "mailbox_cancel",
    "mailbox_change_holder",
    "mailbox_create",
    "mailbox_extend",
    "mailbox_move_check",
    "mailbox_reminder_resend",
    "mailbox_renew",
    "mailbox_revoke_cancellation",
    "mailbox_set_auto_renew",
    "mailbox_set_usage",
    "mailbox_staff_cancel",
    "mailbox_transition",
    "mailbox_upgrade",
    "provisioning_enqueue",
    "provisioning_retry_pending",
    "provisioning_run",
    "quotas_payload",
]
