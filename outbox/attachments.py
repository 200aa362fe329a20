"""Attachments an e-mail row names instead of holding: regenerated when it is sent.

An app registers a generator under a name (billing registers "invoice_pdf" in its
AppConfig.ready); the outbox stores {"source": name, "ref": ...} and calls the generator
with `ref` when the e-mail goes out. Only documents that never change once issued belong
here (an issued invoice); anything else is stored as bytes in the row.
"""

from collections.abc import Callable

_SOURCES: dict[str, Callable[[object], bytes]] = {}


def register(name: str, generate: Callable[[object], bytes]) -> None:
    _SOURCES[name] = generate


def generate(name: str, ref) -> bytes:
    try:
        source = _SOURCES[name]
    except KeyError:
        raise LookupError(f"no attachment source {name!r} is registered") from None
    return source(ref)


class Reference:
    """An attachment to regenerate when sending: `message.attach(Reference(...))`-like use
    through `outbox.services.email_enqueue(attachments_by_reference=[...])`."""

    def __init__(self, *, filename: str, mimetype: str, source: str, ref) -> None:
        self.filename, self.mimetype, self.source, self.ref = filename, mimetype, source, ref

    def as_row(self) -> dict:
        return {
            "filename": self.filename,
            "mimetype": self.mimetype,
            "source": self.source,
            "ref": self.ref,
        }
