"""Querysets compiled to SQL once per process, then run with new values.

The ORM builds and compiles a queryset's SQL on every request: for the short reads of the
Area Clienti and the API (a mailbox, a token, "any order still withdrawable?") that cost
more than PostgreSQL took to answer. A read written here stays a queryset, in the module
that owns its rule, and is compiled once:

    @prepared
    def _token(token_hash: str) -> QuerySet:
        return ApiToken.objects.select_related("customer").filter(token_hash=token_hash)

    _token.all(token_hash=...)     # a list, as the queryset would give it
    _token.first(token_hash=...)   # the first row or None
    _token.exists(token_hash=...)  # True or False
    _token.exists_sql(token_hash=...)  # "EXISTS (...)" and its parameters, for a column
    together(_token.bind(token_hash=...), _other.bind(...))  # one round trip for both
    together(_token.bind(...), Statement(sql, params))  # with SQL written by hand

The first call builds the queryset with a stand-in value for each parameter (int, str or
date, from the annotations), compiles it for the database in use, and finds where each
stand-in went among the statement's parameters. Every later call runs that statement with
the real values, read by Django's own iterables (model instances with their select_related
objects, values_list rows, with the database's converters). What is stored is SQL text
and never data: nothing needs invalidating when rows change.

What the ORM would inline into the SQL text cannot be a parameter (a slice's LIMIT and
OFFSET), nor can a value the build derives from another (pass `since` rather than
computing `today - 14 days` inside): compiling such a build raises ImproperlyConfigured.
prefetch_related is refused for the same reason (its queries are built on each call).
"""

import copy
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable

_STAND_IN_INT = -1_987_654_301  # inside a 32-bit column's range, and no real id or amount
_STAND_IN_DATE = date(1901, 2, 3)
_ITERABLES = (ModelIterable, ValuesListIterable, FlatValuesListIterable)
MAX_CONNECTIONS = 64  # converters are kept for this many connection objects (threads) at most


def _stand_ins(names_and_types) -> dict:
    values = {}
    for n, (name, kind) in enumerate(names_and_types):
        if kind is int:
            values[name] = _STAND_IN_INT - n
        elif kind is str:
            values[name] = f"prepared-parameter-{n}-{name}"
        elif kind is date:
            values[name] = _STAND_IN_DATE + timedelta(days=n)
        else:
            raise ImproperlyConfigured(f"{name}: a prepared query takes int, str or date values")
    return values


class _Compiled:
    """One statement for one database: the compiler that read it (its select list and
    converters), the SQL, and for each parameter either a constant or a value's name."""

    def __init__(self, queryset: QuerySet, alias: str, stand_ins: dict, kinds: dict, exists: bool):
        connection = connections[alias]
        self.alias = alias
        query = queryset.query.exists() if exists else queryset.query
        self.compiler = query.get_compiler(using=alias)
        self.sql, params = self.compiler.as_sql()
        self.queryset = queryset
        self.exists = exists
        adapted = {}
        for name, value in stand_ins.items():
            if kinds[name] is date:
                adapted[name] = connection.ops.adapt_datefield_value(value)
            else:
                adapted[name] = value
        by_value = {(type(v), v): name for name, v in adapted.items()}
        self.slots = [by_value.get((type(p), p)) for p in params]
        self.constants = list(params)
        missing = set(stand_ins) - set(self.slots)
        inlined = [name for name, v in stand_ins.items() if str(v) in self.sql]
        if missing or inlined:
            raise ImproperlyConfigured(
                f"{', '.join(sorted(missing | set(inlined)))}: not a parameter of the compiled "
                "statement (derived inside the build, or written into the SQL text)"
            )
        self.kinds = kinds
        self.adapt_dates = [name for name in stand_ins if kinds[name] is date]
        self._converters: dict[int, tuple] = {}

    def converters(self, compiler) -> dict:
        """The converters of the selected columns (what `compiler.get_converters` gives
        `results_iter`), worked out once for each connection object: some are bound to it."""
        connection = compiler.connection
        known = self._converters.get(id(connection))
        if known is None or known[0] is not connection:
            if len(self._converters) > MAX_CONNECTIONS:
                self._converters.clear()
            fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
            known = (connection, compiler.get_converters(fields))
            self._converters[id(connection)] = known
        return known[1]

    def params(self, connection, values: dict) -> list:
        for name, value in values.items():
            if not isinstance(value, self.kinds[name]):  # None too: "= NULL" matches nothing
                raise TypeError(f"{name}: expected {self.kinds[name].__name__}, got {value!r}")
        for name in self.adapt_dates:
            values[name] = connection.ops.adapt_datefield_value(values[name])
        return [
            self.constants[i] if slot is None else values[slot] for i, slot in enumerate(self.slots)
        ]


class _Query:
    """What Django's iterables ask of a query: its compiler, and the rest from the original."""

    def __init__(self, compiler, original):
        self._compiler = compiler
        self._original = original

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler

    def __getattr__(self, name):
        return getattr(self._original, name)


class _Run:
    """A stand-in for the queryset, for one run of the compiled statement (`rows`: its
    result, when it was fetched already with others)."""

    def __init__(self, compiled: _Compiled, params: list, rows: list | None = None):
        alias = compiled.alias
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connections[alias]  # this thread's connection
        sql = compiled.sql
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        if not compiled.exists:
            # Asked for once per run, by results_iter, for the selected columns.
            converters = compiled.converters(compiler)
            compiler.get_converters = lambda expressions: converters
        if rows is not None:
            compiler.execute_sql = lambda *args, **kwargs: [rows]
        original = compiled.queryset
        self.db = alias
        self.model = original.model
        self.query = _Query(compiler, original.query)
        self._fields = original._fields
        self._known_related_objects = {}


@dataclass(frozen=True)
class Bound:
    """A prepared query with its values, ready to run alone or with others (`together`)."""

    compiled: _Compiled
    params: list

    @property
    def alias(self) -> str:
        return self.compiled.alias

    @property
    def sql(self) -> str:
        return self.compiled.sql

    def rows(self, fetched: list | None = None) -> list:
        run = _Run(self.compiled, self.params, fetched)
        return list(self.compiled.queryset._iterable_class(run))


@dataclass(frozen=True)
class Statement:
    """SQL written by hand, with its parameters, to run with prepared queries (`together`):
    its rows as the cursor gives them."""

    sql: str
    params: list
    alias: str = DEFAULT_DB_ALIAS

    def rows(self, fetched: list | None = None) -> list:
        if fetched is not None:
            return fetched
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return cursor.fetchall()


def together(*statements: Bound | Statement) -> list[list]:
    """Run several statements in one round trip to PostgreSQL (pipeline mode: every
    statement is sent, then every result read), one after another on another database.
    Each result is what `.all()` (or `.page()`) would give, or a Statement's rows."""
    alias = statements[0].alias
    connection = connections[alias]
    if connection.vendor != "postgresql" or any(s.alias != alias for s in statements):
        return [s.rows() for s in statements]
    connection.ensure_connection()
    cursors = [connection.cursor() for _ in statements]
    try:
        # An error ending the pipeline is Django's DatabaseError, as from any statement.
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, s in zip(cursors, statements, strict=True):
                cursor.execute(s.sql, s.params)
        fetched = [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()
    return [s.rows(rows) for s, rows in zip(statements, fetched, strict=True)]


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self.__doc__ = build.__doc__
        hints = inspect.get_annotations(build, eval_str=True)
        self.kinds = {name: hints.get(name) for name in inspect.signature(build).parameters}
        self.stand_ins = _stand_ins(self.kinds.items())
        self._compiled: dict[bool, _Compiled] = {}  # by "exists"
        self._lock = threading.Lock()

    def _statement(self, exists: bool) -> _Compiled:
        compiled = self._compiled.get(exists)
        if compiled is None:
            with self._lock:
                queryset = self.build(**self.stand_ins)
                if queryset._prefetch_related_lookups:
                    raise ImproperlyConfigured("a prepared query cannot prefetch_related")
                if queryset._iterable_class not in _ITERABLES:
                    raise ImproperlyConfigured(
                        "a prepared query gives model instances or values_list rows"
                    )
                compiled = _Compiled(queryset, queryset.db, self.stand_ins, self.kinds, exists)
                self._compiled[exists] = compiled
        return compiled

    def _run(self, values: dict, *, exists: bool) -> tuple[_Compiled, list]:
        if values.keys() != self.kinds.keys():
            raise TypeError(f"expected the values {sorted(self.kinds)}, got {sorted(values)}")
        compiled = self._statement(exists)
        return compiled, compiled.params(connections[compiled.alias], dict(values))

    def bind(self, **values) -> Bound:
        """The query with these values, for `together`; `.all()` is `.bind().rows()`."""
        compiled, params = self._run(values, exists=False)
        return Bound(compiled, params)

    def bind_page(self, limit: int, offset: int, **values) -> Bound:
        """`.page()` bound, for `together`."""
        compiled, params = self._run(values, exists=False)
        if not compiled.queryset.ordered or compiled.queryset.query.is_sliced:
            raise ImproperlyConfigured("a prepared page needs an ordered, unsliced queryset")
        paged = copy.copy(compiled)
        paged.sql = f"{compiled.sql} LIMIT %s OFFSET %s"
        return Bound(paged, [*params, limit, offset])

    def all(self, **values) -> list:
        return self.bind(**values).rows()

    def page(self, limit: int, offset: int, **values) -> list:
        """`limit` rows from `offset` (the build must be ordered and unsliced): the two
        numbers are parameters too, unlike a slice of the queryset."""
        return self.bind_page(limit, offset, **values).rows()

    def first(self, **values):
        rows = self.all(**values)
        return rows[0] if rows else None

    def exists(self, **values) -> bool:
        compiled, params = self._run(values, exists=True)
        with connections[compiled.alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return cursor.fetchone() is not None

    def exists_sql(self, **values) -> tuple[str, list]:
        """`EXISTS (...)` and its parameters, for another statement to select as a column:
        the answer comes with that statement's rows, in the same round trip."""
        compiled, params = self._run(values, exists=True)
        return f"EXISTS ({compiled.sql})", params


def set_prefetched(instance, name: str, rows: list) -> None:
    """Hand `instance` the rows of its reverse relation `name` read by a prepared query, as
    prefetch_related would: `instance.<name>.all()` returns them without a query, and each
    row knows `instance` without one."""
    manager = getattr(instance, name)
    remote = manager.field  # the foreign key on the rows' side
    for row in rows:
        remote.set_cached_value(row, instance)
    queryset = manager.all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[remote.remote_field.cache_name] = queryset


def prepared(build: Callable[..., QuerySet]) -> PreparedQuery:
    """Decorator: the queryset `build(**values)` returns, compiled once (module docstring)."""
    return PreparedQuery(build)
