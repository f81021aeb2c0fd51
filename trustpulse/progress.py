"""Progress lines with an estimate of the time left, for long loops inside an asset (texts scored, encoded)."""

from __future__ import annotations

import time
from collections.abc import Callable

MINUTE = 60.0
HOUR = 3600.0


def duration(seconds: float) -> str:
    """'45 s', '3 min', '1 h 20 min': how long, as a person says it."""
    if seconds < MINUTE:
        return f"{max(seconds, 0):.0f} s"
    if seconds < HOUR:
        return f"{seconds / MINUTE:.0f} min"
    return f"{seconds // HOUR:.0f} h {(seconds % HOUR) / MINUTE:.0f} min"


class RateProgress:
    """`(done, todo) -> None` that logs 'what: done/todo (pct, about T left)' at most every `every_s` seconds
    (and always at the end)."""

    def __init__(self, log: Callable[[str], None], what: str, every_s: float = 5.0) -> None:
        self.log, self.what, self.every_s = log, what, every_s
        self.started = time.perf_counter()
        self.last = float("-inf")

    def __call__(self, done: int, todo: int) -> None:
        now = time.perf_counter()
        if done < todo and now - self.last < self.every_s:
            return
        self.last = now
        elapsed = now - self.started
        left = elapsed / done * (todo - done) if done else None
        eta = f", about {duration(left)} left" if left is not None and done < todo else ""
        pct = f"{done / todo:.0%}" if todo else "100%"
        self.log(f"{self.what}: {done:,}/{todo:,} ({pct}{eta})")
