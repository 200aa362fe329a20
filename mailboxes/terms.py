"""Date rules of a mailbox's term, as pure functions (no clock: dates are arguments)."""

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

GRACE_DAYS = 90


def add_years(start: date, years: int) -> date:
    """`start` moved by whole years; 29 February becomes 28 February."""
    return start + relativedelta(years=years)


def grace_ends_on(expires_on: date) -> date:
    """The first day on which an expired mailbox is no longer renewable (it is cancelled)."""
    return expires_on + timedelta(days=GRACE_DAYS)


# Usage figures come from the mail platform in MB; quotas are sold in GB.
MB_PER_GB = 1024
