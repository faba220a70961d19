"""A settable clock for drills and benchmarks: the engine reads it, the caller moves it."""

from __future__ import annotations

from datetime import datetime


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now
