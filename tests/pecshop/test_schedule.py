"""The nightly run across the 2027 DST nights: beat's own decision, minute by minute.

On 28 March 2027 Italian clocks jump from 02:00 to 03:00 (02:30 does not exist); on 31
October 2027 they go back from 03:00 to 02:00 (02:30 happens twice). The schedule must give
one run per day at the same wall-clock time on both nights."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab

ROME = ZoneInfo("Europe/Rome")


def beat_runs(schedule, start: datetime, end: datetime, last_run_at: datetime) -> list[datetime]:
    """When beat would send the task between `start` and `end`: it asks the schedule
    `is_due(last_run_at)` as the real clock moves on (a minute at a time, in UTC, so the
    DST jump is walked through as it happens), and records the run as beat does."""
    runs = []
    now = start.astimezone(UTC)
    schedule.nowfun = lambda: now.astimezone(ROME)
    while now < end:
        if schedule.is_due(last_run_at).is_due:
            last_run_at = now.astimezone(ROME)
            runs.append(last_run_at)
        now += timedelta(minutes=1)
    return runs


@pytest.fixture
def nightly(settings):
    from pecshop.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["lifecycle-day"]["schedule"]
    schedule = crontab(minute=entry._orig_minute, hour=entry._orig_hour, app=app)
    assert str(schedule.tz) == "Europe/Rome"
    return schedule


@pytest.mark.parametrize(
    ("first_day", "dst_night"),
    [
        (datetime(2027, 3, 26, 12, tzinfo=ROME), "spring: 02:00 jumps to 03:00"),
        (datetime(2027, 10, 29, 12, tzinfo=ROME), "autumn: 03:00 goes back to 02:00"),
    ],
)
def test_the_nightly_run_happens_once_a_day_at_the_same_time_across_dst(
    nightly, first_day, dst_night
):
    last = first_day.replace(hour=4, minute=0)
    runs = beat_runs(nightly, first_day, first_day + timedelta(days=3), last)

    days = [first_day.date() + timedelta(days=n) for n in (1, 2, 3)]
    assert [(r.date(), r.hour, r.minute) for r in runs] == [(d, 4, 0) for d in days], dst_night
    assert all(not 2 <= r.hour < 3 for r in runs)
    # 24 hours apart, except across the change of clock (23 in spring, 25 in autumn).
    gaps = {
        (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds() / 3600
        for a, b in zip(runs, runs[1:], strict=False)
    }
    assert gaps == ({23.0, 24.0} if first_day.month == 3 else {24.0, 25.0})


def test_the_old_02_30_schedule_did_not_run_at_its_time_on_the_spring_night():
    """Why the run moved: 02:30 does not exist on 28 March 2027, and beat ran it an hour
    late, at 03:30, breaking the run's wall-clock time that night."""
    from pecshop.celery import app

    old = crontab(minute=30, hour=2, app=app)
    spring = beat_runs(
        old,
        datetime(2027, 3, 27, 12, tzinfo=ROME),
        datetime(2027, 3, 29, 12, tzinfo=ROME),
        datetime(2027, 3, 27, 2, 30, tzinfo=ROME),
    )
    assert [(r.day, r.hour, r.minute) for r in spring] == [(28, 3, 30), (29, 2, 30)]
