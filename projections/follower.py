"""A projection follower: keeps read models current from outside the writing processes.

A follower is a loop around `ProjectionRunner.catch_up` (batch and tracking position in
ONE transaction, so a follower that dies mid-batch redoes the batch, never half of it) that
sleeps until the store rings (`wait`: PostgreSQL LISTEN/NOTIFY in adapters/pg_listen.py) or
`interval` passes (the fallback poll, and all SQLite has). Any number of followers and
writers may run catch_up on the same projection at once: the tracking row is locked per
batch and a runner that finds it moved retries from the new position, so each event is
applied exactly once.

Gap-freedom (PostgreSQL): eventsourcing's recorder takes `LOCK TABLE <events> IN EXCLUSIVE
MODE` before it draws notification ids and holds it to commit or rollback, so at most one
transaction holds uncommitted ids and every id it draws is above all ids drawn before. Hence
when a reader sees id n, every id below n is either visible or will never exist (its
transaction rolled back: a permanent hole). Reading `id > position` never passes over an
event that commits later. This holds for events written through the recorder (the only
writer here) with the library's client-side insert; a writer that bypasses the table lock
(a raw INSERT, or POSTGRES_ENABLE_DB_FUNCTIONS, whose insert function does not lock) voids
it, which is why `follow_store` (adapters/follower.py) refuses that setting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)

Wait = Callable[[float], bool]  # sleep up to N seconds; True when woken by a write


def poll_only(stop: threading.Event) -> Wait:
    """No doorbell: sleep the whole interval (or until stop)."""
    def wait(timeout: float) -> bool:
        stop.wait(timeout)
        return False

    return wait


class Follower:
    def __init__(self, runners: Sequence[ProjectionRunner], wait: Wait,
                 interval: float = 1.0,
                 on_applied: Callable[[str, int], None] | None = None) -> None:
        self.runners = list(runners)
        self.wait = wait
        self.interval = interval
        self.on_applied = on_applied  # (projection name, events applied) after each catch-up
        self.applied = 0

    def catch_up(self) -> int:
        """One pass over every runner; a failing projection is logged and retried on the
        next pass (its position stays before the batch that failed)."""
        total = 0
        for runner in self.runners:
            try:
                count = runner.catch_up()
            except Exception:  # noqa: BLE001 - keep the other projections following
                log.exception("projection %s failed; retrying", runner.projection.name)
                continue
            if count and self.on_applied is not None:
                self.on_applied(runner.projection.name, count)
            total += count
        self.applied += total
        return total

    def run(self, stop: threading.Event) -> None:
        """Follow until `stop` is set. The doorbell is armed before the first pass, so a
        commit during a pass rings for the next one: no wake-up is lost."""
        while not stop.is_set():
            self.catch_up()
            if stop.is_set():
                break
            self.wait(self.interval)
