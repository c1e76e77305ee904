"""The server's one reading of the wall clock, which tests can pin.

Everything that needs "now" calls `now()` (or `server.models.base.utcnow()`, which is the
same): an aware datetime in UTC. Tests pin it with `pinned(at)` and move it on with the
returned clock's `advance()`; nothing else in the server reads the wall clock as a date
(durations and timeouts use `time.monotonic()` / `time.perf_counter()`, which stay real).
The override is process-wide, so it reaches request handlers and jobs run in the test's
process, but not servers started in other processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

# The alliance works in China Standard Time (no daylight saving); the database keeps UTC.
# Its days, months and years (statistics, case numbers) start at midnight here, which is
# 16:00 UTC the day before.
CHINA = timezone(timedelta(hours=8), "CST")

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current instant, aware, in UTC."""
    if _source is None:
        return datetime.now(UTC)
    return _source().astimezone(UTC)


def local_today() -> date:
    """Today's date in China Standard Time: the alliance's day."""
    return now().astimezone(CHINA).date()


def set_clock(source: Callable[[], datetime] | None) -> Callable[[], datetime] | None:
    """Read "now" from `source` from here on (None: the wall clock); returns the previous
    source so a caller can put it back."""
    global _source
    previous, _source = _source, source
    return previous


class FixedClock:
    """A stopped clock: it says `at` until told otherwise."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.set(at)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("naive datetime refused; give the clock an aware time")
        self.at = at.astimezone(UTC)
        return self.at

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move on by `delta` or by timedelta(**kwargs): advance(days=1)."""
        return self.set(self.at + (delta if delta is not None else timedelta(**kwargs)))


@contextmanager
def pinned(at: datetime) -> Iterator[FixedClock]:
    """`with pinned(datetime(2026, 11, 26, 1, 12, tzinfo=UTC)) as clock:` — the server's
    "now" is `clock.at` inside the block, and what it was before afterwards."""
    clock = FixedClock(at)
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
