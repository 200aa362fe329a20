"""The staff operations on a mailbox now live with every other write to a mailbox in
`mailboxes.services` (module `changes`); these names stay importable from here."""

from mailboxes.services.changes import (  # noqa: F401
    MAX_EXTENSION_DAYS,
    mailbox_change_holder,
    mailbox_extend,
    mailbox_reminder_resend,
    mailbox_staff_cancel,
)
