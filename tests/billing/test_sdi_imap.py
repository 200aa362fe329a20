"""The PEC channel's receiving side against a real IMAP server: Debian's dovecot, started by
the test with a configuration of its own (a passwd-file user, a Maildir in a temporary
folder, a free port on 127.0.0.1). CI installs dovecot-imapd (.ci/run)."""

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from billing.models import Invoice, InvoiceKind
from billing.sdi.channels import PecChannel, SdiChannelError
from billing.sdi.models import SdiReceipt, SdiState
from billing.sdi.services import sdi_receipts_read, sdi_send
from tests.billing import sdi_files
from tests.billing.test_orders import new_mailbox

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "fatture@pec.example", "Segreta-2026"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dovecot():
    if not Path(DOVECOT).exists():
        if os.environ.get("CI_REQUIRE_SERVICES"):
            pytest.fail("dovecot not found: CI must install the dovecot-imapd package")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    # Under /tmp, readable by the mail user dovecot switches to when started as root.
    base = Path(tempfile.mkdtemp(prefix="pecshop-dovecot-"))
    base.chmod(0o755)
    for sub in ("run", "state", "home"):
        (base / sub).mkdir()
    if os.getuid() == 0:
        mail_user, login_user = "dovecot", "dovenull"
    else:
        mail_user = login_user = pwd.getpwuid(os.getuid()).pw_name
    mail = pwd.getpwnam(mail_user)
    os.chown(base / "home", mail.pw_uid, mail.pw_gid)
    (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = _free_port()
    config = base / "dovecot.conf"
    config.write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {mail_user}
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={base}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    subprocess.run([DOVECOT, "-c", str(config)], check=True, timeout=30)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("dovecot did not start: " + (base / "dovecot.log").read_text())
        yield port
    finally:
        subprocess.run([DOVECOT, "-c", str(config), "stop"], timeout=30, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot):
    """The shop's PEC mailbox, emptied before each test."""
    client = imaplib.IMAP4("127.0.0.1", dovecot)
    client.login(USER, PASSWORD)
    _, count = client.select("INBOX")
    if int(count[0]):
        client.store("1:*", "+FLAGS", "(\\Deleted)")
        client.expunge()
    yield client
    client.logout()


def deliver(client, *attachments, subject="Ricevuta"):
    """A message as the SDI's PEC reaches the shop: the SDI's own message (with the
    receipt) wrapped in the PEC envelope as postacert.eml, beside daticert.xml."""
    inner = EmailMessage()
    inner["From"] = "sdi01@pec.fatturapa.it"
    inner["To"] = USER
    inner["Subject"] = subject
    inner.set_content("Ricevuta dal Sistema di Interscambio.")
    for name, content in attachments:
        inner.add_attachment(content, maintype="application", subtype="xml", filename=name)
    outer = EmailMessage()
    outer["From"] = "posta-certificata@pec.fatturapa.it"
    outer["To"] = USER
    outer["Subject"] = f"POSTA CERTIFICATA: {subject}"
    outer.set_content("Messaggio di posta certificata.")
    outer.add_attachment(
        b"<postacert tipo='posta-certificata'/>",
        maintype="application",
        subtype="xml",
        filename="daticert.xml",
    )
    outer.add_attachment(inner, filename="postacert.eml")
    status, _ = client.append("INBOX", None, None, outer.as_bytes())
    assert status == "OK"


@pytest.fixture
def pec(settings, dovecot, tmp_path):
    settings.SDI_CHANNEL = "pec"
    settings.SDI_IMAP_URL = f"imap://fatture%40pec.example:{PASSWORD}@127.0.0.1:{dovecot}/INBOX"
    settings.SDI_SMTP_URL = "smtp://127.0.0.1:1"  # not used here
    settings.SDI_SENDER = USER


@pytest.fixture
def sent_file(db, alice, order_for, pay, settings):
    from billing.sdi.channels import FolderChannel

    order = order_for(new_mailbox(alice, local_part="imap"))
    pay(order)
    invoice = Invoice.objects.get(order=order, kind=InvoiceKind.INVOICE)
    transmission = invoice.sdi_transmissions.get()
    channel = FolderChannel(outgoing=settings.SDI_FOLDER_OUT, incoming=settings.SDI_FOLDER_IN)
    assert sdi_send(transmission_id=transmission.pk, channel=channel) == "sent"
    transmission.refresh_from_db()
    return transmission


def test_the_receipts_job_reads_an_sdi_receipt_from_the_pec_mailbox_over_imap(
    pec, mailbox, sent_file
):
    name = sdi_files.receipt_name(sent_file.file_name, "RC")
    deliver(mailbox, (name, sdi_files.rc(sent_file.file_name)))

    assert sdi_receipts_read() == {"applied": 1}

    sent_file.refresh_from_db()
    assert sent_file.state == SdiState.DELIVERED
    receipt = SdiReceipt.objects.get()
    assert receipt.name == name  # daticert.xml, the PEC envelope's file, is not a receipt
    # Marked as read on the server: the next run finds nothing new.
    assert sdi_receipts_read() == {}
    mailbox.noop()  # this session learns of the flag set by the job's own session
    status, data = mailbox.uid("SEARCH", None, "SEEN")
    assert status == "OK" and len(data[0].split()) == 1


def test_a_pec_message_with_no_sdi_file_is_set_aside_and_a_bad_one_flagged(pec, mailbox, sent_file):
    deliver(mailbox, subject="ACCETTAZIONE")  # the PEC provider's own acceptance receipt
    deliver(mailbox, ("IT12345670017_XXXXX_NS_001.xml", b"<rotto"))

    assert sdi_receipts_read() == {"flagged": 1}
    sent_file.refresh_from_db()
    assert sent_file.state == SdiState.SENT


def test_a_wrong_password_is_a_channel_error_not_a_crash(settings, dovecot, db):
    settings.SDI_CHANNEL = "pec"
    channel = PecChannel(
        smtp_url="smtp://127.0.0.1:1",
        imap_url=f"imap://fatture%40pec.example:sbagliata@127.0.0.1:{dovecot}",
        sdi_address="sdi01@pec.fatturapa.it",
        sender=USER,
    )

    with pytest.raises(SdiChannelError):
        list(channel.receive())
