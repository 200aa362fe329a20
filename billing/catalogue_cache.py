"""The catalogue snapshot and the catalogue page, cached until the catalogue changes.

Every save or delete of a catalogue row (tiers, add-ons, rules, price changes) bumps a
version kept in the shared cache (Redis in production), and the version and the day are
part of every key: a change is seen by all processes at once, a scheduled price from the
next day on. Orders are always priced from the database, never from this cache.
"""

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from datetime import date
from typing import TypeVar

from django.core.cache import cache
from django.utils import timezone

from billing.catalogue import load_catalogue
from billing.pricing import Catalogue

T = TypeVar("T")
VERSION_KEY = "catalogue:version"
# How long a process trusts the version it last read from the shared cache: a catalogue
# change reaches every process within this many seconds, without a cache round trip on
# every request.
VERSION_TTL = 2.0
_snapshots: dict[tuple[str, date], Catalogue] = {}
# At most this many renderings per process (pages of 20-60 KB: a few tens of MB).
MAX_FRAGMENTS = 512
_fragments: OrderedDict[str, object] = OrderedDict()
_version: tuple[float, str] | None = None


def catalogue_version() -> str:
    global _version
    now = time.monotonic()
    if _version is not None and now - _version[0] < VERSION_TTL:
        return _version[1]
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    _version = (now, version)
    return version


def catalogue_changed(**kwargs) -> None:
    global _version
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    _version = None


def forget_local_copies() -> None:
    """Drop what this process keeps in memory (tests, or after a deploy)."""
    global _version
    _version = None
    _snapshots.clear()
    _fragments.clear()


def current_catalogue(on: date | None = None) -> Catalogue:
    """The catalogue in effect on `on` (default today), from this process's memory."""
    key = (catalogue_version(), on or timezone.localdate())
    snapshot = _snapshots.get(key)
    if snapshot is None:
        snapshot = load_catalogue(key[1])
        if len(_snapshots) > 16:
            _snapshots.clear()
        _snapshots[key] = snapshot
    return snapshot


def cached_fragment(name: str, render: Callable[[], T]) -> T:
    """`render()` once per catalogue version and day in each process, then from memory.

    `name` must say everything else the HTML depends on (e.g. a cart's id and version).
    """
    key = f"{name}:{catalogue_version()}:{timezone.localdate().isoformat()}"
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
