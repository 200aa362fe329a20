"""Invoices and credit notes to the SDI: the outbox, the file names, the channels' sending
side, the receipts and the discards."""

import email
import email.policy
import socket
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils import timezone

from billing.documents import validate_fatturapa
from billing.models import Invoice, InvoiceKind
from billing.sdi.channels import FILE_NAME, FolderChannel, SdiChannelError
from billing.sdi.models import SdiReceipt, SdiReceiptStatus, SdiState, SdiTransmission
from billing.sdi.services import (
    SdiError,
    file_progressive,
    receipt_store,
    sdi_receipts_read,
    sdi_resend,
    sdi_send,
    sdi_send_pending,
)
from billing.services.refunds import order_refund
from tests.billing import sdi_files
from tests.billing.test_orders import new_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_invoice(alice, order_for, pay):
    def make(local_part="fattura", customer=None, **kwargs):
        order = order_for(
            new_mailbox(customer or alice, local_part=local_part, **kwargs), customer=customer
        )
        pay(order)
        return Invoice.objects.get(order=order, kind=InvoiceKind.INVOICE)

    return make


def sent(invoice) -> SdiTransmission:
    transmission = invoice.sdi_transmissions.get(is_current=True)
    assert sdi_send(transmission_id=transmission.pk) == "sent"
    transmission.refresh_from_db()
    return transmission


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """The SDI's PEC address: keeps every message it is handed."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def sdi_smtp(settings):
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.SDI_CHANNEL = "pec"
    settings.SDI_SMTP_URL = f"smtp://127.0.0.1:{port}"
    settings.SDI_IMAP_URL = "imap://fatture%40pec.example:x@127.0.0.1:1"
    settings.SDI_ADDRESS = "sdi01@pec.fatturapa.it"
    settings.SDI_SENDER = "fatture@pec.example"
    yield recorder
    controller.stop()


# --- file names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(1, "00001"), (9, "00009"), (10, "0000A"), (35, "0000Z"), (36, "00010"), (36**5 - 1, "ZZZZZ")],
)
def test_the_progressive_is_five_alphanumeric_characters(value, expected):
    assert file_progressive(value) == expected


@pytest.mark.parametrize("value", [0, 36**5])
def test_a_progressive_out_of_range_is_refused(value):
    with pytest.raises(ValueError):
        file_progressive(value)


def test_each_file_gets_a_new_name_by_the_sdi_rule(paid_invoice):
    first = sent(paid_invoice("uno"))
    second = sent(paid_invoice("due"))

    assert first.file_name == "IT12345670017_00001.xml"
    assert second.file_name == "IT12345670017_00002.xml"
    assert FILE_NAME.match(first.file_name)


# --- the outbox and the sending --------------------------------------------------------------


def test_paying_an_order_queues_its_invoice_in_the_same_transaction(paid_invoice):
    invoice = paid_invoice()

    transmission = invoice.sdi_transmissions.get()
    assert transmission.state == SdiState.QUEUED
    assert transmission.is_current
    assert transmission.file_name is None  # named when it leaves
    assert transmission.buyer == invoice.buyer


def test_the_invoice_goes_after_commit_as_one_pec_message_with_one_attachment_named_by_the_rule(
    alice, order_for, pay, sdi_smtp, django_capture_on_commit_callbacks
):
    order = order_for(new_mailbox(alice, local_part="studio"))
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)

    assert len(sdi_smtp.envelopes) == 1
    envelope = sdi_smtp.envelopes[0]
    assert envelope.mail_from == "fatture@pec.example"
    assert envelope.rcpt_tos == ["sdi01@pec.fatturapa.it"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    name = attachments[0].get_filename()
    assert FILE_NAME.match(name) and name.startswith("IT12345670017_")
    xml = attachments[0].get_content()
    assert validate_fatturapa(xml) == []
    invoice = Invoice.objects.get(order=order)
    assert f"<Numero>{invoice.display_number}</Numero>".encode() in xml
    transmission = invoice.sdi_transmissions.get()
    assert transmission.state == SdiState.SENT
    assert transmission.file_name == name
    assert transmission.xml.encode() == xml
    assert transmission.sent_at is not None


def test_the_beat_job_sends_what_is_queued_and_never_twice(paid_invoice, sdi_smtp):
    invoice = paid_invoice()

    assert sdi_send_pending(older_than_minutes=0)["sent"] == 1
    assert sdi_send_pending(older_than_minutes=0).get("sent", 0) == 0
    assert len(sdi_smtp.envelopes) == 1
    assert invoice.sdi_transmissions.get().state == SdiState.SENT


def test_a_channel_that_fails_leaves_the_document_queued_with_its_error_then_it_is_retried(
    paid_invoice, settings
):
    invoice = paid_invoice()
    transmission = invoice.sdi_transmissions.get()
    settings.SDI_CHANNEL = "pec"
    settings.SDI_SMTP_URL = f"smtp://127.0.0.1:{free_port()}"  # nobody listens
    settings.SDI_IMAP_URL = "imap://u:p@127.0.0.1:1"

    assert sdi_send(transmission_id=transmission.pk) == "failed"
    with pytest.raises(SdiChannelError):
        sdi_send(transmission_id=transmission.pk, raise_on_failure=True)
    transmission.refresh_from_db()
    assert transmission.state == SdiState.QUEUED
    assert transmission.attempts == 2
    assert "SMTP" in transmission.last_error
    name = transmission.file_name

    settings.SDI_CHANNEL = "folder"
    assert sdi_send(transmission_id=transmission.pk) == "sent"
    transmission.refresh_from_db()
    assert transmission.file_name == name  # the name it never managed to send is kept
    assert (settings.SDI_FOLDER_OUT / name).read_bytes() == transmission.xml.encode()


def test_the_folder_channel_writes_the_file_under_its_name(paid_invoice, settings):
    transmission = sent(paid_invoice())

    written = settings.SDI_FOLDER_OUT / transmission.file_name
    assert validate_fatturapa(written.read_bytes()) == []
    assert transmission.channel_ref == str(written)


# --- receipts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, state",
    [
        (sdi_files.rc, SdiState.DELIVERED),
        (sdi_files.mc, SdiState.NOT_DELIVERED),
        (sdi_files.ns, SdiState.DISCARDED),
    ],
)
def test_each_receipt_moves_its_document_and_a_second_read_changes_nothing(
    paid_invoice, build, state, settings
):
    transmission = sent(paid_invoice())
    content = build(transmission.file_name)
    kind = build.__name__.upper()
    inbox = settings.SDI_FOLDER_IN
    inbox.mkdir(parents=True)
    (inbox / sdi_files.receipt_name(transmission.file_name, kind)).write_bytes(content)

    assert sdi_receipts_read() == {"applied": 1}
    transmission.refresh_from_db()
    assert transmission.state == state
    assert transmission.sdi_id
    receipt = SdiReceipt.objects.get()
    assert (receipt.kind, receipt.status, receipt.transmission) == (
        kind,
        SdiReceiptStatus.APPLIED,
        transmission,
    )
    assert bytes(receipt.content) == content
    assert (inbox / "letti" / sdi_files.receipt_name(transmission.file_name, kind)).exists()

    before = SdiTransmission.objects.values().get(pk=transmission.pk)
    (inbox / "again.xml").write_bytes(content)
    assert sdi_receipts_read() == {"duplicate": 1}
    assert receipt_store(name="again.xml", content=content) == "duplicate"
    assert SdiTransmission.objects.values().get(pk=transmission.pk) == before
    assert SdiReceipt.objects.count() == 1


def test_a_discard_keeps_the_sdi_error_codes_and_descriptions(paid_invoice):
    transmission = sent(paid_invoice())
    errors = (("00305", "IdCodice non valido"), ("00311", "CodiceDestinatario non valido"))

    receipt_store(name="ns.xml", content=sdi_files.ns(transmission.file_name, errors=errors))

    transmission.refresh_from_db()
    assert transmission.errors == [
        {"code": "00305", "description": "IdCodice non valido"},
        {"code": "00311", "description": "CodiceDestinatario non valido"},
    ]


def test_a_missed_delivery_tells_the_customer_where_the_original_is_with_the_courtesy_copy(
    alice, paid_invoice, django_capture_on_commit_callbacks
):
    invoice = paid_invoice()
    transmission = sent(invoice)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        receipt_store(name="mc.xml", content=sdi_files.mc(transmission.file_name))
    with django_capture_on_commit_callbacks(execute=True):
        receipt_store(name="mc-again.xml", content=sdi_files.mc(transmission.file_name) + b" ")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.it"]
    assert "Agenzia delle Entrate" in message.body
    assert "comunque valid" in message.body
    assert invoice.display_number in message.subject
    (name, pdf, mimetype) = message.attachments[0]
    assert name == f"fattura-{invoice.year}-{invoice.number}.pdf"
    assert mimetype == "application/pdf" and pdf.startswith(b"%PDF")
    transmission.refresh_from_db()
    assert transmission.customer_notified_at is not None
    # The second MC is a different file for a document already settled: kept and flagged.
    assert SdiReceipt.objects.filter(status=SdiReceiptStatus.FLAGGED).count() == 1


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"questo non e' XML", "non valida"),
        (b"<?xml version='1.0'?><Fattura/>", "non è un messaggio dello SdI"),
        (
            sdi_files.rc("IT12345670017_00001.xml").replace(b"<MessageId>123456</MessageId>", b""),
            "MessaggiTypes_v1.1.xsd",
        ),
    ],
)
def test_a_malformed_receipt_is_kept_and_flagged_never_raised(paid_invoice, content, problem):
    transmission = sent(paid_invoice())

    assert receipt_store(name="strano.xml", content=content) == "flagged"

    receipt = SdiReceipt.objects.get()
    assert receipt.status == SdiReceiptStatus.FLAGGED
    assert problem in receipt.problem
    assert bytes(receipt.content) == content
    transmission.refresh_from_db()
    assert transmission.state == SdiState.SENT


def test_a_receipt_for_a_file_nobody_sent_is_flagged(db, settings):
    inbox = settings.SDI_FOLDER_IN
    inbox.mkdir(parents=True)
    (inbox / "a.xml").write_bytes(sdi_files.rc("IT12345670017_ZZZZZ.xml"))
    (inbox / "b.xml").write_bytes(b"\x00\x01 rotto")

    assert sdi_receipts_read() == {"flagged": 2}
    unknown = SdiReceipt.objects.get(name="a.xml")
    assert unknown.transmission is None
    assert "IT12345670017_ZZZZZ.xml" in unknown.problem


def test_the_receipts_command_reads_the_folder(paid_invoice, settings):
    from io import StringIO

    from django.core.management import call_command

    transmission = sent(paid_invoice())
    settings.SDI_FOLDER_IN.mkdir(parents=True)
    (settings.SDI_FOLDER_IN / "rc.xml").write_bytes(sdi_files.rc(transmission.file_name))
    out = StringIO()

    call_command("sdi_receipts", stdout=out)

    assert "applied: 1" in out.getvalue()
    transmission.refresh_from_db()
    assert transmission.state == SdiState.DELIVERED


# --- discards --------------------------------------------------------------------------------


def discarded(paid_invoice, when="2026-11-25T10:00:00"):
    invoice = paid_invoice()
    transmission = sent(invoice)
    receipt_store(name="ns.xml", content=sdi_files.ns(transmission.file_name, when=when))
    transmission.refresh_from_db()
    assert transmission.state == SdiState.DISCARDED
    return invoice, transmission


def test_a_discard_corrected_and_resent_within_5_days_keeps_number_and_date_under_a_new_name(
    alice, paid_invoice, admin_user
):
    invoice, first = discarded(paid_invoice)
    number_and_date = (invoice.year, invoice.number, invoice.issued_on)
    holder = alice.own_holder
    holder.street = "Via Corretta 2"
    holder.save()

    second = sdi_resend(
        invoice=invoice, actor=admin_user, reason="indirizzo corretto", today=date(2026, 11, 30)
    )
    assert sdi_send(transmission_id=second.pk) == "sent"

    second.refresh_from_db()
    first.refresh_from_db()
    assert second.file_name != first.file_name
    assert not first.is_current and first.state == SdiState.DISCARDED
    assert second.is_current and second.state == SdiState.SENT
    assert f"<Numero>{invoice.display_number}</Numero>" in second.xml
    assert f"<Data>{invoice.issued_on.isoformat()}</Data>" in second.xml
    assert "Via Corretta 2" in second.xml
    assert validate_fatturapa(second.xml.encode()) == []
    assert second.actor == admin_user
    invoice.refresh_from_db()
    assert (invoice.year, invoice.number, invoice.issued_on) == number_and_date
    assert Invoice.objects.count() == 1

    # The new file's receipt settles the document; the discarded file stays as history.
    receipt_store(name="rc.xml", content=sdi_files.rc(second.file_name))
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.state == SdiState.DELIVERED
    assert first.state == SdiState.DISCARDED


def test_a_discard_is_not_resent_with_the_same_number_after_5_days(paid_invoice, admin_user):
    invoice, _ = discarded(paid_invoice, when="2026-11-25T10:00:00")

    with pytest.raises(SdiError, match="più di 5 giorni"):
        sdi_resend(invoice=invoice, actor=admin_user, reason="tardi", today=date(2026, 12, 1))
    assert invoice.sdi_transmissions.count() == 1


def test_only_a_discarded_document_is_resent(paid_invoice, admin_user):
    invoice = paid_invoice()
    sent(invoice)

    with pytest.raises(SdiError, match="scartato"):
        sdi_resend(invoice=invoice, actor=admin_user, reason="x", today=date(2026, 11, 25))


# --- credit notes ----------------------------------------------------------------------------


def test_a_credit_note_is_td04_references_its_invoice_and_goes_the_same_way(
    paid_invoice, admin_user, settings
):
    invoice = paid_invoice()
    result = order_refund(
        order=invoice.order, actor=admin_user, reason="reso", today=date(2026, 11, 26)
    )
    note = result.credit_note

    transmission = sent(note)
    xml = transmission.xml.encode()
    assert validate_fatturapa(xml) == []
    assert b"<TipoDocumento>TD04</TipoDocumento>" in xml
    assert b"<DatiFattureCollegate>" in xml
    assert f"<IdDocumento>{invoice.display_number}</IdDocumento>".encode() in xml
    assert f"<Data>{invoice.issued_on.isoformat()}</Data>".encode() in xml
    assert (settings.SDI_FOLDER_OUT / transmission.file_name).exists()


# --- the courtesy copy says what has happened ----------------------------------------------


def pdf_text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def test_the_pdf_never_says_transmitted_before_it_was_and_says_so_after(paid_invoice):
    from billing.documents import document_from_invoice, invoice_pdf

    invoice = paid_invoice()
    queued = pdf_text(invoice_pdf(document_from_invoice(invoice)))
    assert "Copia di cortesia" in queued
    assert "in attesa di trasmissione" in queued
    assert "trasmesso" not in queued

    transmission = sent(invoice)
    after = pdf_text(invoice_pdf(document_from_invoice(invoice)))
    assert "trasmesso al Sistema di Interscambio" in after
    assert transmission.file_name in after

    receipt_store(name="rc.xml", content=sdi_files.rc(transmission.file_name))
    delivered = pdf_text(invoice_pdf(document_from_invoice(invoice)))
    assert "consegnato" in delivered


def test_a_late_document_is_counted_on_the_cruscotto(paid_invoice):
    from billing.dashboard import dashboard_figures

    invoice = paid_invoice()  # issued on 2026-11-25, never sent
    figures = {f.key: f for f in dashboard_figures(today=invoice.issued_on + timedelta(days=2))}

    assert figures["sdi_waiting"].count == 1
    assert figures["sdi_late"].count == 1
    assert figures["sdi_late"].rows[0].invoice == invoice
    on_time = {f.key: f for f in dashboard_figures(today=invoice.issued_on + timedelta(days=1))}
    assert on_time["sdi_late"].count == 0


def test_the_cruscotto_counts_discarded_and_undelivered_documents(paid_invoice):
    from billing.dashboard import dashboard_figures

    _, ns = discarded(lambda: paid_invoice("uno"))
    mc = sent(paid_invoice("due"))
    receipt_store(name="mc.xml", content=sdi_files.mc(mc.file_name))
    receipt_store(name="x.xml", content=b"rotto")

    figures = {f.key: f.count for f in dashboard_figures(today=timezone.localdate())}
    assert figures["sdi_discarded"] == 1
    assert figures["sdi_undelivered"] == 1
    assert figures["sdi_flagged_receipts"] == 1
    assert figures["sdi_waiting"] == 0


def test_a_folder_channel_reads_nothing_when_its_folder_is_missing(tmp_path):
    channel = FolderChannel(outgoing=tmp_path / "out", incoming=tmp_path / "missing")
    assert list(channel.receive()) == []


@pytest.mark.parametrize(
    "url, kind, expected",
    [
        ("smtp://127.0.0.1:2525", "smtp", ("127.0.0.1", 2525, "", False, False, "INBOX")),
        (
            "smtps://fatture%40pec.example:s3gr%2Fta@smtps.pec.example",
            "smtp",
            ("smtps.pec.example", 465, "fatture@pec.example", True, False, "INBOX"),
        ),
        (
            "smtp://u:p@smtp.example:587?starttls=1",
            "smtp",
            ("smtp.example", 587, "u", False, True, "INBOX"),
        ),
        (
            "imaps://u:p@imap.example/SdI",
            "imap",
            ("imap.example", 993, "u", True, False, "SdI"),
        ),
    ],
)
def test_the_channel_urls_are_read_with_their_defaults(url, kind, expected):
    from billing.sdi.channels import parse_mail_url

    server = parse_mail_url(url, kind=kind)
    assert (
        server.host,
        server.port,
        server.username,
        server.tls,
        server.starttls,
        server.folder,
    ) == expected


@pytest.mark.parametrize("url", ["", "http://x", "imap://host", "smtp://"])
def test_a_wrong_smtp_url_is_refused(url):
    from billing.sdi.channels import parse_mail_url

    with pytest.raises(ValueError):
        parse_mail_url(url, kind="smtp")


def test_a_pec_channel_with_a_bad_url_stops_the_process_at_start():
    import os
    import subprocess
    import sys

    env = {**os.environ, "SDI_CHANNEL": "pec", "SDI_SMTP_URL": "", "SDI_IMAP_URL": "imap://h"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "pecshop.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SDI_SMTP_URL" in result.stderr


def test_the_beat_runs_the_sending_and_the_receipts_jobs(settings):
    from pecshop.celery import app

    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["billing.tasks.sdi_read_receipts"] == 15 * 60
    assert schedule["billing.tasks.sdi_send_pending"] <= 5 * 60
    app.loader.import_default_modules()
    assert {"billing.tasks.sdi_read_receipts", "billing.tasks.sdi_send_pending"} <= set(app.tasks)


def test_two_runs_of_the_folder_reader_at_once_do_not_trip_over_the_same_file(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.xml").write_bytes(b"<a/>")
    (inbox / "b.xml").write_bytes(b"<b/>")
    first = FolderChannel(outgoing=tmp_path / "out", incoming=inbox)
    second = FolderChannel(outgoing=tmp_path / "out", incoming=inbox)

    reading = first.receive()
    a = next(reading)
    for incoming in second.receive():  # the other run reads and moves both
        second.done(incoming)
    first.done(a)  # already moved: nothing to do
    assert list(reading) == []  # b.xml is gone too: skipped, not an error
    assert sorted(p.name for p in (inbox / "letti").iterdir()) == ["a.xml", "b.xml"]


def test_the_same_receipt_name_read_twice_is_kept_under_another_name(tmp_path):
    inbox = tmp_path / "in"
    (inbox / "letti").mkdir(parents=True)
    (inbox / "letti" / "a.xml").write_bytes(b"<first/>")
    (inbox / "a.xml").write_bytes(b"<second/>")
    channel = FolderChannel(outgoing=tmp_path / "out", incoming=inbox)

    for incoming in channel.receive():
        channel.done(incoming)

    kept = sorted(p.read_bytes() for p in (inbox / "letti").iterdir())
    assert kept == [b"<first/>", b"<second/>"]


def test_sending_needs_only_the_smtp_url_and_falls_back_to_the_sellers_address(
    paid_invoice, sdi_smtp, settings
):
    settings.SDI_IMAP_URL = ""
    settings.SDI_SENDER = ""
    settings.SDI_SMTP_URL = settings.SDI_SMTP_URL.replace(
        "smtp://", "smtp://fatture%40pec.example@"
    )
    invoice = paid_invoice()

    # aiosmtpd offers no AUTH on plain text: the login is refused, so the file stays queued.
    assert sdi_send(transmission_id=invoice.sdi_transmissions.get().pk) == "failed"
    settings.SDI_SMTP_URL = settings.SDI_SMTP_URL.replace("fatture%40pec.example@", "")
    assert sdi_send(transmission_id=invoice.sdi_transmissions.get().pk) == "sent"
    assert sdi_smtp.envelopes[0].mail_from == "fatture@pecshop.example"  # SELLER_EMAIL


def test_a_missing_smtp_url_is_a_channel_error_kept_on_the_document(paid_invoice, settings):
    settings.SDI_CHANNEL = "pec"
    settings.SDI_SMTP_URL = ""
    transmission = paid_invoice().sdi_transmissions.get()

    assert sdi_send(transmission_id=transmission.pk) == "failed"
    transmission.refresh_from_db()
    assert "SDI_SMTP_URL" in transmission.last_error
