"""Sessions opened with a mailbox's own address and password.

The login is throttled like the account login (django-axes, keyed by the mailbox address
and the client address) and takes as long for an unknown address as for a known one. The
session remembers a fingerprint of the mailbox's password hash: it ends as soon as the
mailbox is cancelled or its password changes.
"""

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.contrib.auth.signals import user_login_failed
from django.utils.crypto import constant_time_compare, salted_hmac

from area.sessions import STAMP_KEY
from mailboxes.models import Mailbox, MailboxStatus
from pecshop.security import lockout_response

LIVE = [MailboxStatus.ACTIVE, MailboxStatus.EXPIRED]


def password_stamp(mailbox: Mailbox) -> str:
    return salted_hmac("area.mailbox-session", mailbox.password or "").hexdigest()


def credentials_of(request) -> dict:
    address = request.POST.get("address", "")
    return {"username": address.strip().lower()[:254] if isinstance(address, str) else ""}


def locked_out(request):
    """The lockout page if this mailbox address is locked out from this client, else None."""
    credentials = credentials_of(request)
    if credentials["username"] and AxesProxyHandler.is_locked(request, credentials):
        return lockout_response(request, None, credentials)
    return None


def login_failed(request) -> None:
    credentials = credentials_of(request)
    if credentials["username"]:
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)


def login_succeeded(request, mailbox: Mailbox) -> None:
    axes_reset(ip=request.META.get("REMOTE_ADDR"), username=mailbox.address)
    request.session[STAMP_KEY] = password_stamp(mailbox)


def session_still_valid(request, mailbox_id: int) -> bool:
    """False once the mailbox is cancelled (or gone) or its password has changed."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id, status__in=LIVE).only("id", "password").first()
    stamp = request.session.get(STAMP_KEY) or ""
    return mailbox is not None and constant_time_compare(stamp, password_stamp(mailbox))
