"""
The throttles' counts, kept where every worker and every replica sees them.

A count is opened by the first attempt under its key and lasts one period from
then; the attempt that finds it closed opens the next. It lives in PostgreSQL
unless REDIS_URL is set (``KEEL["THROTTLE_COUNTS"]``), so that no deployment
shape needs Redis for its limits to be exact; with Redis it lives in Django's
cache, shared the same way.

In PostgreSQL each key is one row of ``accounts_throttle_count``, counted by a
single ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the statement takes
the row's lock, so concurrent attempts under one key are counted one after
another and each sees the count it made, however many processes send them.
Closed rows are deleted by the periodic job accounts.prune_throttle_counts.

A key found over its limit is remembered by the worker process for up to
OVER_LIMIT_MEMORY seconds (never past its count's close), and an attempt under
it in that time is refused without a round trip (``remembered_over_limit``).
A flood's refusals would otherwise each cost a write, a commit and the lock on
the row that every other attempt under the key waits for; remembered, they
cost a dictionary lookup, and the count they could only have raised past the
limit stays where it is. The limit is as exact: an open count never falls
below the limit but by a refund (a right password, a request that checked
none), and a refund only ever takes from the count its attempt was counted
in; a refund in this process forgets the key, one in another is seen within
a second.
"""

import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

COUNT_SQL = """
INSERT INTO accounts_throttle_count AS c (key, count, closes_at)
VALUES (%(key)s, 1, now() + make_interval(secs => %(period)s))
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN c.closes_at <= now() THEN 1 ELSE c.count + 1 END,
    closes_at = CASE WHEN c.closes_at <= now()
        THEN excluded.closes_at ELSE c.closes_at END
RETURNING count, extract(epoch FROM closes_at)::float8
"""

# One attempt fewer, from the count it was counted in (see same_count); the
# last one gone, the row goes, so the next attempt opens a window of its own
# (as in the cache). Both statements see the row locked by the DELETE's or
# UPDATE's own lock, never half of the other's change.
UNCOUNT_SQL = """
WITH gone AS (
    DELETE FROM accounts_throttle_count
    WHERE key = %(key)s AND count <= 1
        AND abs(extract(epoch FROM closes_at) - %(closes_at)s) < %(slack)s
)
UPDATE accounts_throttle_count SET count = count - 1
WHERE key = %(key)s AND count > 1
    AND abs(extract(epoch FROM closes_at) - %(closes_at)s) < %(slack)s
"""

PRUNE_SQL = "DELETE FROM accounts_throttle_count WHERE closes_at <= now()"

# Seconds a worker refuses a key it found over its limit, without counting.
OVER_LIMIT_MEMORY = 1.0
# Keys remembered at most: one per flooding address or username, so a flood
# from very many of them is bounded; past it the expired ones go, then all.
OVER_LIMIT_KEYS = 10_000

# key: (until when it is refused uncounted, when its count closes), epoch s
_over_limit: dict[str, tuple[float, float]] = {}
_over_limit_lock = threading.Lock()


def in_database() -> bool:
    return bool(settings.KEEL["THROTTLE_COUNTS"] == "database")


def count_attempt(*, key: str, period: int) -> tuple[int, float]:
    """Count one attempt under key; return the count and when it closes (epoch s)."""
    if in_database():
        with connection.cursor() as cursor:
            cursor.execute(COUNT_SQL, {"key": key, "period": period})
            count, closes_at = cursor.fetchone()
        return int(count), float(closes_at)
    now = time.time()
    if cache.add(key, 1, period):
        cache.set(f"{key}_opened", now, period)
        return 1, now + period
    try:
        count = cache.incr(key)
    except ValueError:
        # The count expired between add() and incr(): this attempt is the first.
        cache.set(key, 1, period)
        cache.set(f"{key}_opened", now, period)
        return 1, now + period
    return int(count), float(cache.get(f"{key}_opened", now)) + period


def remembered_over_limit(key: str) -> float | None:
    """Return when key's count closes (epoch s) if key is remembered over its
    limit, else None."""
    remembered = _over_limit.get(key)
    if remembered is None:
        return None
    until, closes_at = remembered
    if until <= time.time():
        _over_limit.pop(key, None)
        return None
    return closes_at


def remember_over_limit(key: str, closes_at: float) -> None:
    """Remember key over its limit for a moment, and until closes_at at most."""
    now = time.time()
    with _over_limit_lock:
        if len(_over_limit) >= OVER_LIMIT_KEYS:
            for old in [k for k, (until, _) in _over_limit.items() if until <= now]:
                del _over_limit[old]
            if len(_over_limit) >= OVER_LIMIT_KEYS:
                _over_limit.clear()
        _over_limit[key] = (min(now + OVER_LIMIT_MEMORY, closes_at), closes_at)


def forget_over_limit() -> None:
    """Forget every key remembered over its limit (core.state's reset)."""
    _over_limit.clear()


def same_count_slack(period: int) -> float:
    """
    Return how far two closes of one key may differ and be the same count's.

    A key's next count opens only once its count has closed, so it closes at
    least a period after it: half a period tells them apart, whatever the
    float formatting on the way, or an attempt that read the close before the
    opener had written it (count_attempt's fallback to its own clock).
    """
    return period / 2


def uncount_attempt(*, key: str, closes_at: float, period: int) -> None:
    """
    Take one attempt back from key's count, if it is still the count that
    attempt was counted in: the one closing at closes_at (as count_attempt
    returned it), period seconds long. A refund that comes after its count
    has closed takes nothing from the next one.
    """
    _over_limit.pop(key, None)
    slack = same_count_slack(period)
    if in_database():
        with connection.cursor() as cursor:
            cursor.execute(
                UNCOUNT_SQL, {"key": key, "closes_at": closes_at, "slack": slack}
            )
        return
    # The cache offers no atomic compare, so a count that closes between this
    # read and the decrement can still lose one. Without its opening time (an
    # eviction), the count is taken to be the attempt's own, as it most
    # likely is.
    opened = cache.get(f"{key}_opened")
    if opened is not None and abs(float(opened) + period - closes_at) >= slack:
        return
    try:
        if cache.decr(key) <= 0:
            # Leave nothing behind: requests that guessed nothing must not
            # fill a local-memory cache until it evicts the real counts.
            cache.delete_many([key, f"{key}_opened"])
    except ValueError:
        pass  # The count has expired already: nothing to take back.


def prune_closed_counts() -> int:
    """Delete the counts whose period has ended; return how many."""
    with connection.cursor() as cursor:
        cursor.execute(PRUNE_SQL)
        return int(cursor.rowcount)
