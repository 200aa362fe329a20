"""The daily lifecycle jobs of mailboxes: set-based, batched, idempotent and safe to kill.

Every job takes `today`, the day being run (never the clock), and works through the
mailboxes it concerns in batches taken in id order. A batch is one transaction: the claim
of its mailbox rows (`SELECT ... FOR UPDATE`, so a renewal being paid for one of them
either finishes first or waits), the events, the cascade to the add-ons and the change of
the mailboxes commit together. So the invariants hold between any two batches, and a job
killed half-way is finished by running it again: the rows already moved no longer match
its condition, and a second run of the day finds nothing to do.

Changes are conditional set-based statements (`UPDATE ... WHERE status = <old>`) and the
events are written with `INSERT ... SELECT` in the same transaction: no mailbox is loaded
into Python to be changed. The SQL is plain enough for PostgreSQL and SQLite alike.

Jobs that touch orders (automatic renewals, unpaid orders) and the whole day in order
(`run_lifecycle`) are in `billing.lifecycle`: billing depends on mailboxes, not the reverse.
"""

# ruff: noqa: S608 - the SQL here is assembled from table names and fixed fragments of this
# module; every value goes in as a parameter.

import json
import logging
from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F, Max, Min, Q, QuerySet
from django.utils import timezone

from addons.models import AddOn, Tier, TierAddOn
from mailboxes.models import (
    LIVE_ADDON_STATUSES,
    USAGE_ALERT_LEVELS,
    AddOnStatus,
    EventKind,
    Mailbox,
    MailboxAddOn,
    MailboxEvent,
    MailboxStatus,
    ProvisioningCall,
    ProvisioningStatus,
    ReminderKind,
    ReminderSent,
    UsageAlert,
    UsageQuota,
)
from mailboxes.services.changes import REASON_CANCEL_AT_EXPIRY
from mailboxes.services.platform import PLATFORM_ACTION, run_calls_after_commit
from mailboxes.services.transitions import addon_cascade, addon_sources, mailbox_move_check
from mailboxes.terms import GRACE_DAYS, grace_ends_on
from outbox.services import emails_send, emails_store
from pecshop.mail import email_build

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
EMAIL_BATCH_SIZE = 500
MB_PER_GB = 1024

REASON_EXPIRY = "scadenza"
REASON_GRACE_ENDED = f"fine dei {GRACE_DAYS} giorni dopo la scadenza"
REASON_TERM_CHANGES = "modifiche programmate al rinnovo"

# Days from the expiry on which each reminder is due (negative: before the expiry).
REMINDER_DAYS: dict[str, int] = {
    ReminderKind.BEFORE_90: -90,
    ReminderKind.BEFORE_60: -60,
    ReminderKind.BEFORE_30: -30,
    ReminderKind.BEFORE_15: -15,
    ReminderKind.BEFORE_7: -7,
    ReminderKind.BEFORE_1: -1,
    ReminderKind.GRACE_0: 0,
    ReminderKind.GRACE_30: 30,
    ReminderKind.GRACE_60: 60,
    ReminderKind.GRACE_83: GRACE_DAYS - 7,
    ReminderKind.GRACE_89: GRACE_DAYS - 1,
}
# A reminder whose day was missed (the job did not run, or beat skipped the 02:30 that does
# not exist on the night summer time starts) is still sent this many days late.
REMINDER_CATCH_UP_DAYS = 2

USAGE_COLUMNS = {
    UsageQuota.MAILBOX: "usage_mailbox_mb",
    UsageQuota.ARCHIVE: "usage_archive_mb",
    UsageQuota.CONSERVATION: "usage_conservation_mb",
}
QUOTA_NAMES = {
    UsageQuota.MAILBOX: "della casella",
    UsageQuota.ARCHIVE: "dell'archivio di sicurezza",
    UsageQuota.CONSERVATION: "della conservazione",
}


# --- SQL helpers ----------------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _json_param() -> str:
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def _json_object(*pairs: tuple[str, str]) -> str:
    """A JSON object built in SQL from (key, SQL expression) pairs."""
    function = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    arguments = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    return f"{function}({arguments})"


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _day(value: date):
    return connection.ops.adapt_datefield_value(value)


def _in_batches(
    queryset: QuerySet, batch_size: int, work: Callable[[int, int], None], *, lock: bool = True
) -> int:
    """Call `work(after_id, last_id)` for successive batches of the rows of `queryset`,
    each in its own transaction with the batch's rows locked first. Returns the batches run.

    `work` must select its rows again with the same condition and `after_id < id <=
    last_id`: the locked rows are exactly those, since nothing turns a mailbox back into
    one that a job selects.
    """
    after, batches = 0, 0
    while True:
        with transaction.atomic():
            rows = queryset.filter(pk__gt=after).order_by("pk")
            if lock:
                rows = rows.select_for_update()
            ids = list(rows.values_list("pk", flat=True)[:batch_size])
            if not ids:
                return batches
            work(after, ids[-1])
        after, batches = ids[-1], batches + 1


def _cascade_addons(cursor, *, mailboxes_sql: str, params: list, to_status: str, reason: str):
    """Move the add-ons of the mailboxes selected by `mailboxes_sql` as their mailbox moves
    to `to_status`, writing an event for each. Returns the add-ons moved."""
    sources, target = addon_cascade(to_status)
    addon_table, addon_catalogue = _table(MailboxAddOn), _table(AddOn)
    now = _now()
    cursor.execute(
        f"INSERT INTO {_table(MailboxEvent)} (mailbox_id, mailbox_addon_id, kind, from_status, "
        "to_status, data, reason, actor_id, created_at) "
        f"SELECT ma.mailbox_id, ma.id, %s, ma.status, %s, "
        f"{_json_object(('addon', 'a.code'), ('quantity', 'ma.quantity'))}, %s, NULL, %s "
        f"FROM {addon_table} ma JOIN {addon_catalogue} a ON a.id = ma.addon_id "
        f"WHERE ma.status IN ({_placeholders(sources)}) AND ma.mailbox_id IN ({mailboxes_sql})",
        [EventKind.ADDON_STATUS, target, reason, now, *sources, *params],
    )
    cursor.execute(
        f"UPDATE {addon_table} SET status = %s, updated_at = %s "
        f"WHERE status IN ({_placeholders(sources)}) AND mailbox_id IN ({mailboxes_sql})",
        [target, now, *sources, *params],
    )
    return cursor.rowcount


def _move_batch(
    *, where: str, params: list, from_status: str, to_status: str, today: date, reason: str
) -> int:
    """Move the mailboxes in `from_status` matching `where` (unqualified columns of the
    mailbox table) to `to_status`, their add-ons with them, and write the events. The move
    and the cascade come from the transition map: a move it does not allow raises
    TransitionError before anything is written. Runs in the caller's transaction; returns
    the mailboxes moved."""
    mailbox_move_check(from_status, to_status)
    where = f"status = %s AND {where}"
    params = [from_status, *params]
    mailbox = _table(Mailbox)
    now = _now()
    date_column = {MailboxStatus.EXPIRED: "expired_on", MailboxStatus.CANCELLED: "cancelled_on"}
    with connection.cursor() as cursor:
        # Events first: they read the statuses being left, in the same transaction.
        cursor.execute(
            f"INSERT INTO {_table(MailboxEvent)} (mailbox_id, mailbox_addon_id, kind, "
            "from_status, to_status, data, reason, actor_id, created_at) "
            f"SELECT id, NULL, %s, status, %s, {_json_param()}, %s, NULL, %s "
            f"FROM {mailbox} WHERE {where}",
            [
                EventKind.STATUS,
                to_status,
                json.dumps({"on": today.isoformat()}),
                reason,
                now,
                *params,
            ],
        )
        _cascade_addons(
            cursor,
            mailboxes_sql=f"SELECT id FROM {mailbox} WHERE {where}",
            params=params,
            to_status=to_status,
            reason=reason,
        )
        # The mail platform hears of it: an expired mailbox only receives, a cancelled one
        # goes. The calls are rows of this transaction, run after commit or, if that is
        # lost, by the retry job.
        cursor.execute(
            f"INSERT INTO {_table(ProvisioningCall)} (mailbox_id, action, payload, status, "
            "attempts, last_error, created_at) "
            f"SELECT id, %s, {_json_param()}, %s, 0, '', %s FROM {mailbox} WHERE {where} "
            "RETURNING id",
            [PLATFORM_ACTION[to_status], "{}", ProvisioningStatus.PENDING, now, *params],
        )
        run_calls_after_commit([row[0] for row in cursor.fetchall()])
        cursor.execute(
            f"UPDATE {mailbox} SET status = %s, {date_column[to_status]} = %s, updated_at = %s "
            f"WHERE {where}",
            [to_status, _day(today), now, *params],
        )
        return cursor.rowcount


# --- expiry, end of grace, disdetta -----------------------------------------------------------


def expire_mailboxes(*, today: date, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Active mailboxes whose expiry has come become expired, their active add-ons with
    them; those with a disdetta at expiry are cancelled instead, add-ons and all."""
    counts = {"expired": 0, "cancelled": 0}
    due = Mailbox.objects.filter(status=MailboxStatus.ACTIVE, expires_on__lte=today)
    where = "expires_on <= %s AND id > %s AND id <= %s AND cancel_at_expiry = %s"

    def work(after: int, last: int) -> None:
        params = [_day(today), after, last]
        counts["expired"] += _move_batch(
            where=where,
            params=[*params, False],
            from_status=MailboxStatus.ACTIVE,
            to_status=MailboxStatus.EXPIRED,
            today=today,
            reason=REASON_EXPIRY,
        )
        counts["cancelled"] += _move_batch(
            where=where,
            params=[*params, True],
            from_status=MailboxStatus.ACTIVE,
            to_status=MailboxStatus.CANCELLED,
            today=today,
            reason=REASON_CANCEL_AT_EXPIRY,
        )

    _in_batches(due, batch_size, work)
    return counts


def end_grace(*, today: date, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Mailboxes expired for the whole grace period are cancelled, with all their add-ons."""
    counts = {"cancelled": 0}
    # grace_ends_on(expires_on) <= today, written on the column so the index serves it.
    last_expiry = today - timedelta(days=GRACE_DAYS)
    due = Mailbox.objects.filter(status=MailboxStatus.EXPIRED, expires_on__lte=last_expiry)
    where = "expires_on <= %s AND id > %s AND id <= %s"

    def work(after: int, last: int) -> None:
        counts["cancelled"] += _move_batch(
            where=where,
            params=[_day(last_expiry), after, last],
            from_status=MailboxStatus.EXPIRED,
            to_status=MailboxStatus.CANCELLED,
            today=today,
            reason=REASON_GRACE_ENDED,
        )

    _in_batches(due, batch_size, work)
    return counts


def mailbox_cascade(*, mailbox_id: int, reason: str = "allineamento alla casella") -> int:
    """Bring the add-ons of one expired or cancelled mailbox in line with it. Idempotent:
    after `mailbox_cancel` (which cascades in its own transaction) it finds nothing to do."""
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(pk=mailbox_id).first()
        if mailbox is None or mailbox.status not in (
            MailboxStatus.EXPIRED,
            MailboxStatus.CANCELLED,
        ):
            return 0
        with connection.cursor() as cursor:
            moved = _cascade_addons(
                cursor,
                mailboxes_sql=f"SELECT id FROM {_table(Mailbox)} WHERE id = %s",
                params=[mailbox.pk],
                to_status=mailbox.status,
                reason=reason,
            )
        return moved


# --- changes scheduled for the new term -------------------------------------------------------


def apply_term_changes(*, today: date, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """On the day the running term ends, apply what an early renewal scheduled: the new
    tier and the new add-on quantities (0 ends the add-on, as the map allows from the
    statuses in which an add-on is held); the platform is told the new quotas after
    commit."""
    counts = {"mailboxes": 0}
    live = [MailboxStatus.ACTIVE, MailboxStatus.EXPIRED]
    held = addon_sources(AddOnStatus.ENDED, [AddOnStatus.ACTIVE, AddOnStatus.EXPIRED])
    due = Mailbox.objects.filter(term_changes_on__lte=today, status__in=live)
    mailbox, addon_table, event = _table(Mailbox), _table(MailboxAddOn), _table(MailboxEvent)
    addon_catalogue, tier = _table(AddOn), _table(Tier)
    where = f"term_changes_on <= %s AND status IN ({_placeholders(live)}) AND id > %s AND id <= %s"
    columns = "(mailbox_id, mailbox_addon_id, kind, from_status, to_status, data, reason, actor_id, created_at)"

    def work(after: int, last: int) -> None:
        params = [_day(today), *live, after, last]
        chosen = f"SELECT id FROM {mailbox} WHERE {where}"
        now = _now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {event} {columns} SELECT m.id, NULL, %s, '', '', "
                f"{_json_object(('from', 't_old.code'), ('to', 't_new.code'))}, %s, NULL, %s "
                f"FROM {mailbox} m JOIN {tier} t_old ON t_old.id = m.tier_id "
                f"JOIN {tier} t_new ON t_new.id = m.next_tier_id "
                f"WHERE m.next_tier_id <> m.tier_id AND m.id IN ({chosen})",
                [EventKind.TIER_CHANGED, REASON_TERM_CHANGES, now, *params],
            )
            cursor.execute(
                f"INSERT INTO {event} {columns} SELECT ma.mailbox_id, ma.id, %s, ma.status, %s, "
                f"{_json_object(('addon', 'a.code'), ('quantity', 'ma.quantity'))}, %s, NULL, %s "
                f"FROM {addon_table} ma JOIN {addon_catalogue} a ON a.id = ma.addon_id "
                f"WHERE ma.next_quantity = 0 AND ma.status IN ({_placeholders(held)}) "
                f"AND ma.mailbox_id IN ({chosen})",
                [EventKind.ADDON_STATUS, AddOnStatus.ENDED, REASON_TERM_CHANGES, now]
                + [*held, *params],
            )
            cursor.execute(
                f"INSERT INTO {event} {columns} SELECT ma.mailbox_id, ma.id, %s, '', '', "
                f"{_json_object(('addon', 'a.code'), ('from', 'ma.quantity'), ('to', 'ma.next_quantity'))}, "
                f"%s, NULL, %s "
                f"FROM {addon_table} ma JOIN {addon_catalogue} a ON a.id = ma.addon_id "
                f"WHERE ma.next_quantity > 0 AND ma.status IN ({_placeholders(held)}) "
                f"AND ma.mailbox_id IN ({chosen})",
                [EventKind.ADDON_CHANGED, REASON_TERM_CHANGES, now, *held, *params],
            )
            cursor.execute(
                f"UPDATE {addon_table} SET status = %s, next_quantity = NULL, updated_at = %s "
                f"WHERE next_quantity = 0 AND status IN ({_placeholders(held)}) AND mailbox_id IN ({chosen})",
                [AddOnStatus.ENDED, now, *held, *params],
            )
            cursor.execute(
                f"UPDATE {addon_table} SET quantity = next_quantity, next_quantity = NULL, "
                f"updated_at = %s "
                f"WHERE next_quantity > 0 AND status IN ({_placeholders(held)}) AND mailbox_id IN ({chosen})",
                [now, *held, *params],
            )
            cursor.execute(
                f"SELECT id FROM {mailbox} WHERE {where}",
                params,
            )
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                f"UPDATE {mailbox} SET tier_id = COALESCE(next_tier_id, tier_id), "
                f"next_tier_id = NULL, term_changes_on = NULL, updated_at = %s WHERE {where}",
                [now, *params],
            )
            counts["mailboxes"] += cursor.rowcount
        _provisioning_set_quotas(ids)

    _in_batches(due, batch_size, work)
    return counts


def _provisioning_set_quotas(mailbox_ids: list[int]) -> None:
    """Tell the platform the quotas of these mailboxes, as `quotas_payload` describes them,
    with calls recorded in this transaction and run after commit."""
    if not mailbox_ids:
        return
    payloads = {
        pk: {"tier": code, "addons": {}}
        for pk, code in Mailbox.objects.filter(pk__in=mailbox_ids).values_list("pk", "tier__code")
    }
    for pk, code, quantity in MailboxAddOn.objects.filter(
        mailbox_id__in=mailbox_ids, status=AddOnStatus.ACTIVE
    ).values_list("mailbox_id", "addon__code", "quantity"):
        payloads[pk]["addons"][code] = quantity
    calls = ProvisioningCall.objects.bulk_create(
        [
            ProvisioningCall(mailbox_id=pk, action=ProvisioningCall.Action.SET_QUOTAS, payload=p)
            for pk, p in payloads.items()
        ]
    )
    # Without ids (a backend that does not return them) the retry job runs the calls.
    run_calls_after_commit([call.pk for call in calls if call.pk])


# --- reminders --------------------------------------------------------------------------------


def reminders(*, today: date, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Record the renewal reminders due today, once per mailbox, expiry date and kind.

    A reminder is due on its day from the expiry; before the expiry only for active
    mailboxes without a disdetta, in the grace period only for expired ones. A mailbox
    renewed meanwhile has another expiry date, so nothing of the old date is due.
    The e-mails go out with `reminders_send`.
    """
    recorded = sum(
        _record_reminders(kind=kind, today=today, batch_size=batch_size) for kind in REMINDER_DAYS
    )
    return {"recorded": recorded}


def _record_reminders(*, kind: str, today: date, batch_size: int) -> int:
    offset = REMINDER_DAYS[kind]
    newest = today - timedelta(days=offset)
    oldest = newest - timedelta(days=REMINDER_CATCH_UP_DAYS)
    status = MailboxStatus.ACTIVE if offset < 0 else MailboxStatus.EXPIRED
    due = Mailbox.objects.filter(status=status, expires_on__gte=oldest, expires_on__lte=newest)
    where = "status = %s AND expires_on >= %s AND expires_on <= %s AND id > %s AND id <= %s"
    extra = []
    if offset < 0:
        due = due.filter(cancel_at_expiry=False)
        where += " AND cancel_at_expiry = %s"
        extra = [False]
    recorded = 0
    sql = (
        f"INSERT INTO {_table(ReminderSent)} (mailbox_id, expires_on, kind, due_on, sent_at, "
        f"created_at) SELECT id, expires_on, %s, %s, NULL, %s FROM {_table(Mailbox)} "
        f"WHERE {where} ON CONFLICT (mailbox_id, expires_on, kind) DO NOTHING"
    )

    def work(after: int, last: int) -> None:
        nonlocal recorded
        params = [kind, _day(today), _now(), status, _day(oldest), _day(newest), after, last]
        with connection.cursor() as cursor:
            cursor.execute(sql, params + extra)
            recorded += max(cursor.rowcount, 0)

    _in_batches(due, batch_size, work, lock=False)
    return recorded


def _sendable_reminders(today: date) -> QuerySet:
    """Recorded, not yet sent, and still true: same expiry date and the status it speaks of."""
    return ReminderSent.objects.filter(
        sent_at__isnull=True,
        due_on__gte=today - timedelta(days=REMINDER_CATCH_UP_DAYS),
        due_on__lte=today,
        mailbox__expires_on=F("expires_on"),
    ).filter(
        Q(kind__startswith="before_", mailbox__status=MailboxStatus.ACTIVE)
        | Q(kind__startswith="grace_", mailbox__status=MailboxStatus.EXPIRED)
    )


def _reminder_message(reminder: ReminderSent, today: date) -> EmailMessage | None:
    mailbox = reminder.mailbox
    to = mailbox.customer.user.email
    if not to:
        return None
    offset = REMINDER_DAYS[reminder.kind]
    expires_on = reminder.expires_on
    context = {
        "mailbox": mailbox,
        "expires_on": expires_on,
        "before": offset < 0,
        "days_left": -offset,
        "days_expired": offset,
        "grace_ends_on": grace_ends_on(expires_on),
        "last_renewal_day": grace_ends_on(expires_on) - timedelta(days=1),
        "auto_renew": mailbox.auto_renew,
        "site_url": settings.SITE_URL,
    }
    if offset < 0:
        subject = f"La casella PEC {mailbox.address} scade il {expires_on:%d/%m/%Y}"
    elif offset == 0:
        subject = f"La casella PEC {mailbox.address} è scaduta"
    else:
        subject = (
            f"La casella PEC {mailbox.address} è scaduta: rinnovala entro il "
            f"{context['last_renewal_day']:%d/%m/%Y}"
        )
    return email_build("mailbox_reminder", context, subject=subject, to=[to])


def _send_batches(queryset: QuerySet, build, mark, batch_size: int) -> int:
    """Write the e-mails of `queryset`'s rows to the outbox in batches and mark the rows in
    the same transaction, then send the batch over one connection. The rows are locked
    (skipping those another sender holds) so two runs never write the same e-mail; an
    e-mail the mail server refuses stays in the outbox for its sweep. Batches follow the id
    (keyset), so each query starts where the last one ended instead of wading through the
    rows just written."""
    sent, after = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                queryset.filter(pk__gt=after)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return sent
            messages = [m for m in (build(row) for row in batch) if m is not None]
            email_ids = emails_store(messages=messages)
            mark([row.pk for row in batch])
            sent += len(messages)
        if email_ids:
            emails_send(email_ids=email_ids)
        after = batch[-1].pk


def reminders_send(*, today: date, batch_size: int = EMAIL_BATCH_SIZE) -> dict[str, int]:
    """E-mail the reminders recorded and not yet sent (still true today)."""
    sent = _send_batches(
        _sendable_reminders(today).select_related("mailbox__customer__user"),
        lambda reminder: _reminder_message(reminder, today),
        lambda ids: ReminderSent.objects.filter(pk__in=ids).update(sent_at=timezone.now()),
        batch_size,
    )
    return {"sent": sent}


# --- usage alerts -----------------------------------------------------------------------------


def _level_sql(used: str, quota_gb: str) -> str:
    # Integer arithmetic on both databases; a quota of 0 GB (Standard has no archive) is
    # never "full".
    cases = " ".join(
        f"WHEN ({quota_gb}) > 0 AND CAST({used} AS BIGINT) * 100 >= ({quota_gb}) * {MB_PER_GB * level} "
        f"THEN {level}"
        for level in sorted(USAGE_ALERT_LEVELS, reverse=True)
    )
    return f"CASE {cases} ELSE 0 END"


def _usage_changes(quota: str, after: int, last: int) -> list[tuple]:
    """(mailbox id, level now, used MB, quota GB, level last alerted or None) of the mailboxes
    in (after, last] whose usage level of `quota` differs from the one last alerted.

    The quota is the tier's included GB plus the GB add-ons held (billing.pricing.quota_gb).
    """
    mailbox, addon_table, addon_catalogue = _table(Mailbox), _table(MailboxAddOn), _table(AddOn)
    column = USAGE_COLUMNS[quota]
    held = [AddOnStatus.ACTIVE, AddOnStatus.EXPIRED]
    live = [MailboxStatus.ACTIVE, MailboxStatus.EXPIRED]
    sql = (
        f"SELECT x.id, x.level, x.used_mb, x.quota_gb, ua.level FROM ("
        f" SELECT m.id AS id, m.{column} AS used_mb,"
        f"  COALESCE(inc.gb, 0) + COALESCE(held.gb, 0) AS quota_gb,"
        f"  {_level_sql(f'm.{column}', 'COALESCE(inc.gb, 0) + COALESCE(held.gb, 0)')} AS level"
        f" FROM {mailbox} m"
        f" LEFT JOIN (SELECT ta.tier_id, SUM(ta.included_quantity) AS gb"
        f"  FROM {_table(TierAddOn)} ta JOIN {addon_catalogue} a ON a.id = ta.addon_id"
        f"  WHERE a.quota = %s AND a.unit = %s GROUP BY ta.tier_id) inc ON inc.tier_id = m.tier_id"
        f" LEFT JOIN (SELECT ma.mailbox_id, SUM(ma.quantity) AS gb"
        f"  FROM {addon_table} ma JOIN {addon_catalogue} a ON a.id = ma.addon_id"
        f"  WHERE a.quota = %s AND a.unit = %s AND ma.status IN (%s, %s)"
        f"  AND ma.mailbox_id > %s AND ma.mailbox_id <= %s"
        f"  GROUP BY ma.mailbox_id) held ON held.mailbox_id = m.id"
        f" WHERE m.status IN (%s, %s) AND m.id > %s AND m.id <= %s"
        f") x LEFT JOIN {_table(UsageAlert)} ua ON ua.mailbox_id = x.id AND ua.quota = %s"
        f" WHERE x.level <> COALESCE(ua.level, 0)"
    )
    params = [quota, AddOn.Unit.GB, quota, AddOn.Unit.GB, *held, after, last]
    params += [*live, after, last, quota]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def usage_alerts(*, today: date, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Alert at 70% and 90% of each quota, once per crossing: a level is alerted when the
    usage rises to it, and forgotten when the usage drops below it, so the next crossing
    is alerted again. Only the mailboxes whose level changed come back from the database."""
    counts = {"raised": 0, "lowered": 0}
    bounds = Mailbox.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return counts
    # Windows of ids rather than claimed batches: the work is a comparison, so a window
    # read twice (a rerun, a second runner) changes nothing more.
    window = batch_size * 10
    for after in range(bounds["first"] - 1, bounds["last"], window):
        last = after + window
        with transaction.atomic():
            for quota in USAGE_COLUMNS:
                new = []
                for mailbox_id, level, used_mb, quota_gb, alerted in _usage_changes(
                    quota, after, last
                ):
                    raised = level > (alerted or 0)
                    counts["raised" if raised else "lowered"] += 1
                    values = {
                        "level": level,
                        "used_mb": used_mb,
                        "quota_gb": quota_gb,
                        "changed_on": today,
                        "email_pending": raised,
                    }
                    if alerted is None:
                        new.append(UsageAlert(mailbox_id=mailbox_id, quota=quota, **values))
                    else:
                        # Conditional: a second runner that got here first wins, once.
                        UsageAlert.objects.filter(
                            mailbox_id=mailbox_id, quota=quota, level=alerted
                        ).update(**values)
                UsageAlert.objects.bulk_create(new, ignore_conflicts=True)
    return counts


def _usage_message(alert: UsageAlert) -> EmailMessage | None:
    mailbox = alert.mailbox
    to = mailbox.customer.user.email
    if not to:
        return None
    context = {
        "mailbox": mailbox,
        "alert": alert,
        "quota_name": QUOTA_NAMES[alert.quota],
        "used_gb": f"{alert.used_mb / MB_PER_GB:.1f}".replace(".", ","),
        "site_url": settings.SITE_URL,
    }
    return email_build(
        "usage_alert",
        context,
        subject=f"Spazio {QUOTA_NAMES[alert.quota]} {mailbox.address} al {alert.level}%",
        to=[to],
    )


def usage_alerts_send(*, today: date, batch_size: int = EMAIL_BATCH_SIZE) -> dict[str, int]:
    """E-mail the usage alerts raised and not yet sent."""
    sent = _send_batches(
        UsageAlert.objects.filter(email_pending=True).select_related("mailbox__customer__user"),
        _usage_message,
        lambda ids: UsageAlert.objects.filter(pk__in=ids).update(
            email_pending=False, emailed_at=timezone.now()
        ),
        batch_size,
    )
    return {"sent": sent}


# --- invariants -------------------------------------------------------------------------------


def violation_lines(title: str, rows: list, total: int, limit: int) -> list[str]:
    lines = [f"{title}: {row}" for row in rows[:limit]]
    if total > limit:
        lines.append(f"{title}: ... e altri {total - limit}")
    return lines


def mailbox_invariant_violations(*, today: date | None = None, limit: int = 100) -> list[str]:
    """What is wrong with mailboxes and their add-ons, one line each (empty: all is well).

    With `today`, also what the day's job should have done by now: no active mailbox at or
    past its expiry, no expired mailbox past its grace period.
    """
    out: list[str] = []
    wrong = (
        MailboxAddOn.objects.filter(status=AddOnStatus.ACTIVE)
        .exclude(mailbox__status=MailboxStatus.ACTIVE)
        .order_by("pk")
    )
    out += violation_lines(
        "servizio attivo su una casella non attiva",
        [
            f"{address} {code} (casella {status})"
            for address, code, status in wrong.values_list(
                "mailbox__address", "addon__code", "mailbox__status"
            )[:limit]
        ],
        wrong.count(),
        limit,
    )

    mailbox, addon_table = _table(Mailbox), _table(MailboxAddOn)
    rule_sql = (
        f"FROM {addon_table} ma JOIN {mailbox} m ON m.id = ma.mailbox_id "
        f"JOIN {_table(AddOn)} a ON a.id = ma.addon_id JOIN {_table(Tier)} t ON t.id = m.tier_id "
        f"LEFT JOIN {_table(TierAddOn)} ta ON ta.tier_id = m.tier_id AND ta.addon_id = ma.addon_id "
        f"WHERE ma.status IN ({_placeholders(LIVE_ADDON_STATUSES)}) AND ma.quantity > 0 "
        "AND (ta.id IS NULL OR ta.sold = %s OR ma.quantity > ta.max_quantity)"
    )
    params = [*LIVE_ADDON_STATUSES, False]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) {rule_sql}", params)
        total = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT m.address, a.code, ma.quantity, t.name, ta.sold, ta.max_quantity {rule_sql} "
            "ORDER BY ma.id LIMIT %s",
            [*params, limit],
        )
        rows = [
            f"{address} {code} x{quantity} su {tier}: "
            + ("non in vendita" if not sold else f"al massimo {most}")
            for address, code, quantity, tier, sold, most in cursor.fetchall()
        ]
    out += violation_lines("servizio non ammesso dalla tipologia", rows, total, limit)

    if today is not None:
        late = Mailbox.objects.filter(status=MailboxStatus.ACTIVE, expires_on__lte=today)
        out += violation_lines(
            "casella attiva alla scadenza o dopo",
            [
                f"{address} (scadenza {expires_on:%d/%m/%Y})"
                for address, expires_on in late.order_by("pk").values_list("address", "expires_on")[
                    :limit
                ]
            ],
            late.count(),
            limit,
        )
        lapsed = Mailbox.objects.filter(
            status=MailboxStatus.EXPIRED, expires_on__lte=today - timedelta(days=GRACE_DAYS)
        )
        out += violation_lines(
            f"casella scaduta da {GRACE_DAYS} giorni o più e non cancellata",
            [
                f"{address} (scadenza {expires_on:%d/%m/%Y})"
                for address, expires_on in lapsed.order_by("pk").values_list(
                    "address", "expires_on"
                )[:limit]
            ],
            lapsed.count(),
            limit,
        )
    return out
