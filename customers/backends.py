"""Django's model backend, loading the account's customer profile with the user: every
logged-in page needs both, so this is one query instead of two. The same statement says
whether the user has a confirmed second factor (`user.two_factor_as_loaded`), which the
Area Clienti's reminder to switch it on shows; decisions about the second factor ask the
database again (customers.security.has_two_factor). Nothing is cached across
requests: a password change or a deactivation counts from the next request, and no
password hash leaves the database.

The statement is written once per process from the two models' own fields (the columns
`select_related("customer")` would read, with the database's converters), so it follows the
models when they change; the ORM would build and compile the same statement on every
request, which cost more than running it.
"""

from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, router
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.models import Customer


@dataclass(frozen=True)
class _Statement:
    sql: str
    user_fields: list
    customer_fields: list
    converters: list  # per model column: the backend's and the field's converters


@cache
def _statement(alias: str) -> _Statement:
    connection = connections[alias]
    quote = connection.ops.quote_name
    user_model = get_user_model()
    user_fields = list(user_model._meta.concrete_fields)
    customer_fields = list(Customer._meta.concrete_fields)
    columns = [f"u.{quote(f.column)}" for f in user_fields]
    columns += [f"c.{quote(f.column)}" for f in customer_fields]
    user_pk = quote(user_model._meta.pk.column)
    device = TOTPDevice._meta
    columns.append(
        f"EXISTS (SELECT 1 FROM {quote(device.db_table)} d "  # noqa: S608 - names only
        f"WHERE d.{quote(device.get_field('user').column)} = u.{user_pk} "
        f"AND d.{quote(device.get_field('confirmed').column)})"
    )
    sql = (
        f"SELECT {', '.join(columns)} "  # noqa: S608 - table and column names only
        f"FROM {quote(user_model._meta.db_table)} u "
        f"LEFT JOIN {quote(Customer._meta.db_table)} c "
        f"ON c.{quote(Customer._meta.get_field('user').column)} = u.{user_pk} "
        f"WHERE u.{user_pk} = %s"
    )
    converters = []
    for field in user_fields + customer_fields:
        column = field.get_col(field.model._meta.db_table)
        converters.append(
            (column, connection.ops.get_db_converters(column) + field.get_db_converters(connection))
        )
    return _Statement(sql, user_fields, customer_fields, converters)


def user_with_customer(user_id):
    """The user with this id, with `user.customer` already loaded (missing for a user
    without a profile, such as staff); None if there is no such user."""
    user_model = get_user_model()
    try:
        user_id = user_model._meta.pk.to_python(user_id)
    except ValidationError:  # a session holding a malformed id is nobody
        return None
    alias = router.db_for_read(user_model)
    statement = _statement(alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    *row, two_factor = row
    values = []
    for value, (column, converters) in zip(row, statement.converters, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        values.append(value)
    split = len(statement.user_fields)
    user = user_model.from_db(alias, [f.attname for f in statement.user_fields], values[:split])
    user.two_factor_as_loaded = bool(two_factor)
    customer = None
    if values[split] is not None:  # the profile's id: a customer row was joined
        customer = Customer.from_db(
            alias, [f.attname for f in statement.customer_fields], values[split:]
        )
        Customer._meta.get_field("user").set_cached_value(customer, user)
    user_model._meta.get_field("customer").set_cached_value(user, customer)
    return user


class CustomerBackend(ModelBackend):
    def get_user(self, user_id):
        user = user_with_customer(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
