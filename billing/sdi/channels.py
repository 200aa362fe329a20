"""The edge towards the Sistema di Interscambio: one small interface, two channels.

- `pec`: each file goes as the one attachment of a message sent through the shop's own PEC
  mailbox (SMTP, `SDI_SMTP_URL`) to the SDI's address (`SDI_ADDRESS`); the SDI's receipts
  arrive in the same mailbox and are read over IMAP (`SDI_IMAP_URL`).
- `folder`: files are written to `SDI_FOLDER_OUT` and receipts read from `SDI_FOLDER_IN`
  (development, or an intermediary that picks the files up and drops the receipts).

The channel only moves bytes; what a receipt means is decided in `billing.sdi.services`.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import hashlib
import imaplib
import os
import re
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from django.conf import settings

# `IT01234567890_1A2B3.xml` (and `_RC_001.xml` etc. for the SDI's receipts): country code,
# the transmitter's identifier, `_`, a progressive of 5 alphanumeric characters.
FILE_NAME = re.compile(r"^[A-Z]{2}[A-Za-z0-9]{1,28}_[A-Za-z0-9]{5}\.xml$")


class SdiChannelError(Exception):
    """The channel did not take the file or could not be read; the work is retried."""


@dataclass(frozen=True)
class IncomingFile:
    """A file received from the SDI; `ref` lets the channel mark it as read afterwards."""

    name: str
    content: bytes
    ref: str


class SdiChannel(Protocol):
    name: str

    def send(self, *, file_name: str, content: bytes) -> str:
        """Hand one file to the SDI; returns the channel's reference (path, Message-ID)."""
        ...

    def receive(self) -> Iterator[IncomingFile]:
        """The files waiting to be read (receipts, and whatever else arrived)."""
        ...

    def done(self, incoming: IncomingFile) -> None:
        """`incoming` is stored: do not offer it again."""
        ...


class FolderChannel:
    name = "folder"

    def __init__(self, *, outgoing: Path, incoming: Path) -> None:
        self.outgoing = Path(outgoing)
        self.incoming = Path(incoming)

    def send(self, *, file_name: str, content: bytes) -> str:
        try:
            self.outgoing.mkdir(parents=True, exist_ok=True)
            target = self.outgoing / file_name
            # Written aside and renamed: whoever picks the folder up never sees half a file.
            partial = self.outgoing / f".{file_name}.part"
            partial.write_bytes(content)
            os.replace(partial, target)
        except OSError as error:
            raise SdiChannelError(f"cartella {self.outgoing}: {error}") from error
        return str(target)

    def receive(self) -> Iterator[IncomingFile]:
        if not self.incoming.is_dir():
            return
        for path in sorted(self.incoming.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                try:
                    content = path.read_bytes()
                except FileNotFoundError:
                    continue  # another run of the job has just read and moved it
                except OSError as error:
                    raise SdiChannelError(f"{path}: {error}") from error
                yield IncomingFile(name=path.name, content=content, ref=str(path))

    def done(self, incoming: IncomingFile) -> None:
        # Moved into `letti/`, kept as they came (they are also stored in the database).
        read = self.incoming / "letti"
        read.mkdir(exist_ok=True)
        source = Path(incoming.ref)
        target = read / source.name
        with contextlib.suppress(FileNotFoundError):  # another run moved it first
            if target.exists():
                digest = hashlib.sha256(incoming.content).hexdigest()[:12]
                target = read / f"{source.stem}.{digest}{source.suffix}"
            os.replace(source, target)


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    username: str
    password: str
    tls: bool  # TLS from the first byte (smtps://, imaps://)
    starttls: bool
    folder: str


def parse_mail_url(url: str, *, kind: str) -> MailServer:
    """`smtp://user:pass@host:587?starttls=1`, `smtps://...`, `imap://...`, `imaps://.../INBOX`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in (kind, f"{kind}s") or not parts.hostname:
        raise ValueError(f"un indirizzo {kind}:// o {kind}s:// con l'host, non {url!r}")
    tls = scheme.endswith("s")
    default_port = {"smtp": 25, "smtps": 465, "imap": 143, "imaps": 993}[scheme]
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    return MailServer(
        host=parts.hostname,
        port=parts.port or default_port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        tls=tls,
        starttls=query.get("starttls", "0").lower() in ("1", "true", "yes"),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


# PEC envelopes carry the provider's own certificate of the message: not an SDI file.
PEC_ENVELOPE_FILES = {"daticert.xml", "smime.p7s", "postacert.eml"}


class PecChannel:
    name = "pec"

    def __init__(
        self, *, smtp_url: str, imap_url: str, sdi_address: str, sender: str, timeout: int = 30
    ) -> None:
        # Each URL is read when its side is used: the settings check both at start anyway.
        self.smtp_url = smtp_url
        self.imap_url = imap_url
        self.sdi_address = sdi_address
        self.sender = sender
        self.timeout = timeout
        self._connection: imaplib.IMAP4 | None = None

    def _server(self, kind: str) -> MailServer:
        try:
            return parse_mail_url(self.smtp_url if kind == "smtp" else self.imap_url, kind=kind)
        except ValueError as error:
            raise SdiChannelError(f"SDI_{kind.upper()}_URL: {error}") from error

    # --- sending ---------------------------------------------------------------------------

    def send(self, *, file_name: str, content: bytes) -> str:
        server = self._server("smtp")
        sender = self.sender or server.username or settings.SELLER.get("email", "")
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.sdi_address
        message["Subject"] = f"Invio file {file_name}"
        message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
        message.set_content(f"Si trasmette il file {file_name}.\n")
        message.add_attachment(content, maintype="application", subtype="xml", filename=file_name)
        try:
            if server.tls:
                client = smtplib.SMTP_SSL(
                    server.host,
                    server.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
            with client:
                if server.starttls:
                    client.starttls(context=ssl.create_default_context())
                if server.username:
                    client.login(server.username, server.password)
                client.send_message(message, from_addr=sender, to_addrs=[self.sdi_address])
        except (OSError, smtplib.SMTPException) as error:
            raise SdiChannelError(f"SMTP {server.host}:{server.port}: {error}") from error
        return message["Message-ID"]

    # --- receiving -------------------------------------------------------------------------

    def _connect(self) -> imaplib.IMAP4:
        server = self._server("imap")
        try:
            if server.tls:
                client = imaplib.IMAP4_SSL(
                    server.host,
                    server.port,
                    ssl_context=ssl.create_default_context(),
                    timeout=self.timeout,
                )
            else:
                client = imaplib.IMAP4(server.host, server.port, timeout=self.timeout)
                if server.starttls:
                    client.starttls(ssl_context=ssl.create_default_context())
            client.login(server.username, server.password)
            status, _ = client.select(_quote(server.folder))
            if status != "OK":
                raise SdiChannelError(f"IMAP: cartella {server.folder} non trovata")
        except (OSError, imaplib.IMAP4.error) as error:
            raise SdiChannelError(f"IMAP {server.host}:{server.port}: {error}") from error
        return client

    def receive(self) -> Iterator[IncomingFile]:
        client = self._connection = self._connect()
        try:
            status, data = client.uid("SEARCH", None, "UNSEEN")
            if status != "OK":
                raise SdiChannelError(f"IMAP SEARCH: {data!r}")
            for uid in data[0].split():
                # BODY.PEEK: reading does not mark the message; `done` does, once it is stored.
                status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
                if status != "OK" or not parts or not isinstance(parts[0], tuple):
                    raise SdiChannelError(f"IMAP FETCH {uid!r}: {parts!r}")
                message = email.message_from_bytes(parts[0][1], policy=email.policy.default)
                files = list(_sdi_files(message))
                if not files:
                    # A PEC acceptance or delivery receipt of our own sending: nothing to read.
                    self._mark_seen(uid.decode())
                    continue
                for index, (name, content) in enumerate(files):
                    last = index == len(files) - 1
                    yield IncomingFile(
                        name=name, content=content, ref=f"{uid.decode()}:{int(last)}"
                    )
        except (OSError, imaplib.IMAP4.error) as error:
            raise SdiChannelError(f"IMAP: {error}") from error
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
            self._connection = None

    def done(self, incoming: IncomingFile) -> None:
        uid, last = incoming.ref.split(":")
        if last == "1":
            self._mark_seen(uid)

    def _mark_seen(self, uid: str) -> None:
        client = self._connection
        if client is not None:
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sdi_files(message) -> Iterator[tuple[str, bytes]]:
    """The XML attachments of a message, at any depth (a PEC message wraps the SDI's own
    message as `postacert.eml`), except the PEC provider's envelope files."""
    for part in message.walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        name = part.get_filename()
        if not name or name.lower() in PEC_ENVELOPE_FILES:
            continue
        if name.lower().endswith((".xml", ".xml.p7m")):
            payload = part.get_payload(decode=True)
            if payload is not None:
                yield name, payload


def get_channel() -> SdiChannel:
    if settings.SDI_CHANNEL == "pec":
        return PecChannel(
            smtp_url=settings.SDI_SMTP_URL,
            imap_url=settings.SDI_IMAP_URL,
            sdi_address=settings.SDI_ADDRESS,
            sender=settings.SDI_SENDER,
        )
    return FolderChannel(outgoing=settings.SDI_FOLDER_OUT, incoming=settings.SDI_FOLDER_IN)
