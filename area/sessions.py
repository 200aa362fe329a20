"""What the Area Clienti keeps in the browser's session, and the only code that reads or
writes those keys (the order pages of billing ask here too).

A session opened with a mailbox's own credentials holds that mailbox's id and the numbers
of the orders it placed: it may see those orders and their documents, nothing else.
"""

MAILBOX_SESSION_KEY = "area_mailbox_id"
SESSION_ORDERS_KEY = "area_orders"  # orders placed in a mailbox-credential session
# A fingerprint of the mailbox password the session was opened with (area.mailbox_sessions).
STAMP_KEY = "area_mailbox_stamp"


def session_mailbox_id(request) -> int | None:
    """The mailbox whose credentials opened this session, if any."""
    return request.session.get(MAILBOX_SESSION_KEY)


def session_orders(request) -> list[str]:
    """The numbers of the orders placed in a mailbox-credential session."""
    return request.session.get(SESSION_ORDERS_KEY, [])


def session_order_add(request, number: str) -> None:
    request.session[SESSION_ORDERS_KEY] = [*session_orders(request), number]


def mailbox_session_start(request, mailbox_id: int) -> None:
    """Enter with a mailbox's credentials: a new session key; what another mailbox's
    session placed stays with that mailbox."""
    request.session.cycle_key()
    if request.session.get(MAILBOX_SESSION_KEY) != mailbox_id:
        request.session.pop(SESSION_ORDERS_KEY, None)
    request.session[MAILBOX_SESSION_KEY] = mailbox_id


def mailbox_session_end(request) -> None:
    """The mailbox was cancelled or its password changed: what its session held goes."""
    for key in (MAILBOX_SESSION_KEY, SESSION_ORDERS_KEY, STAMP_KEY):
        request.session.pop(key, None)
