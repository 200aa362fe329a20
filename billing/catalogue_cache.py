"""The catalogue, read from the database for each request, and renderings of it kept by
content.

`current_catalogue(on)` asks the database every time it is called (one query: on PostgreSQL
the catalogue's version, which the database moves itself on any write to the catalogue's
tables, and the rows only when it moved; on SQLite the rows): no code has anything to
invalidate, a change is seen by the next request of every process as soon as it commits,
and a change not yet committed is seen by nobody. A view asks once and passes the snapshot
on.

`cached_fragment(name, render, catalogue=...)` keeps, in this process, HTML that depends only
on the catalogue and on what `name` says: the catalogue page's body (the same for every
visitor) and a cart's body under the cart's version. Its key holds the fingerprint of the
catalogue snapshot that was just read (`catalogue_fingerprint`), so a rendering of an older
catalogue can never be served for a newer one.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from typing import TypeVar

from django.utils import timezone

from billing.catalogue import UNREAD, forget_built, load_catalogue
from billing.pricing import Catalogue

T = TypeVar("T")
# At most this many renderings per process (a catalogue or a cart body: a few KB each).
MAX_FRAGMENTS = 512
_fragments: OrderedDict[str, object] = OrderedDict()
_fingerprints: dict[int, tuple[Catalogue, str]] = {}


def current_catalogue(on: date | None = None, *, version=UNREAD) -> Catalogue:
    """The catalogue in effect on `on` (default today), as committed now (`version`: as
    read by the caller's own statement, see `load_catalogue`)."""
    return load_catalogue(on or timezone.localdate(), version=version)


def catalogue_fingerprint(catalogue: Catalogue) -> str:
    """A short digest of everything in the snapshot: equal for equal catalogues (worked out
    once per snapshot object)."""
    known = _fingerprints.get(id(catalogue))
    if known is not None and known[0] is catalogue:
        return known[1]
    content = repr(
        (
            sorted(catalogue.tiers.items()),
            sorted(catalogue.addons.items()),
            sorted(catalogue.rules.items()),
        )
    )
    fingerprint = hashlib.blake2b(content.encode(), digest_size=12).hexdigest()
    if len(_fingerprints) > 64:
        _fingerprints.clear()
    _fingerprints[id(catalogue)] = (catalogue, fingerprint)
    return fingerprint


def forget_local_copies() -> None:
    """Drop the renderings and snapshots this process keeps (tests)."""
    _fragments.clear()
    forget_built()


def cached_fragment(name: str, render: Callable[[], T], *, catalogue: Catalogue) -> T:
    """`render()` once per catalogue content and day in each process, then from memory."""
    key = f"{name}:{catalogue_fingerprint(catalogue)}:{timezone.localdate().isoformat()}"
    html = _fragments.get(key)
    if html is None:
        html = render()
        _fragments[key] = html
        while len(_fragments) > MAX_FRAGMENTS:  # the least recently used go first
            _fragments.popitem(last=False)
    else:
        with suppress(KeyError):  # another thread of this process may have dropped it
            _fragments.move_to_end(key)
    return html
