"""Group commit: concurrent saves of one process share a transaction (one fsync per batch).

Each command is its own transaction otherwise, so a single writer can never beat the disk's
fsync rate. Here every save is queued; whoever finds no write in progress becomes the
leader, takes everything queued (up to ``max_batch``), records it as ONE transaction and
answers each caller; saves arriving meanwhile queue for the next leader. There is no timer:
a lone caller is written at once (no added latency), and batches grow with the load, bounded
by the time one transaction takes.

A batch that fails (an optimistic-concurrency conflict, a ticket number or citizen key
another command of the batch took) is written again one save at a time, in arrival order,
so only the saves that fail on their own fail, each with its own exception; the others
commit. Ticket numbers stay gap-free: a number is used only by the transaction that
commits its order's first event.

Only one leader writes at a time, so this also serialises the process's event writes
(SQLite has one writer anyway: queueing here beats sleeping in SQLite's busy handler).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import ProcessingEvent

DEFAULT_MAX_BATCH = 64


@dataclass
class _Save:
    event: ProcessingEvent[Any]
    # Set when the save is done, or when its caller is to lead the next batch (`lead`):
    # one caller woken per event (a shared condition would wake every waiting thread).
    # The saves of one caller (commit_all) share one.
    wake: threading.Event
    done: bool = False
    lead: bool = False
    error: BaseException | None = None
    recordings: list[Any] = field(default_factory=list)


def merged(saves: list[_Save]) -> ProcessingEvent[Any]:
    """One processing event holding every save's events, aggregates and side-table writes."""
    batch: ProcessingEvent[Any] = ProcessingEvent()
    staged: list[Any] = []
    for save in saves:
        batch.events.extend(save.event.events)
        batch.aggregates.update(save.event.aggregates)
        staged.extend(save.event.saved_kwargs.get("staged") or ())
    if staged:
        batch.saved_kwargs["staged"] = staged
    return batch


class GroupCommit:
    """``commit(event)`` returns once the event is recorded, or raises its own failure."""

    def __init__(self, record: Callable[[ProcessingEvent[Any]], list[Any]],
                 max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self._record = record
        self.max_batch = max_batch
        self._queue: list[_Save] = []
        self._writing = False  # a leader is writing (or has been handed the next batch)
        self._mutex = threading.Lock()
        # For benchmarks: batches written, saves in them, and batches that failed and
        # were written again one save at a time.
        self.batches = 0
        self.saves = 0
        self.split = 0

    def commit(self, event: ProcessingEvent[Any]) -> list[Any]:
        """Record `event`; returns its recordings or raises its own failure."""
        [save] = self._run([event])
        if save.error is not None:
            raise save.error
        return save.recordings

    def commit_all(self, events: list[ProcessingEvent[Any]]) -> list[BaseException | None]:
        """Record several saves of one caller (e.g. a tick's steps) in as few transactions
        as they fit; each save's own failure (None: recorded), in order."""
        return [save.error for save in self._run(events)] if events else []

    def _run(self, events: list[ProcessingEvent[Any]]) -> list[_Save]:
        wake = threading.Event()
        saves = [_Save(event, wake) for event in events]
        with self._mutex:
            self._queue.extend(saves)
            leading = not self._writing
            self._writing = True
        while True:
            if not leading:
                wake.wait()  # some of ours done, or the lead handed to us
                with self._mutex:
                    wake.clear()
                    leading = any(save.lead for save in saves)
                    for save in saves:
                        save.lead = False
                if not leading and all(save.done for save in saves):
                    return saves
                if not leading:
                    continue
            with self._mutex:
                batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            self._write(batch)
            with self._mutex:
                if not self._queue:
                    self._writing = False
                    leading = False
                elif all(save.done for save in saves):
                    # The next leader writes what queued meanwhile.
                    self._queue[0].lead = True
                    self._queue[0].wake.set()
                    leading = False
            if not leading and all(save.done for save in saves):
                return saves

    def _write(self, batch: list[_Save]) -> None:
        try:
            if len(batch) == 1:
                self._write_one(batch[0])
                return
            try:
                recordings = self._record(merged(batch))
            except Exception:  # noqa: BLE001 - each save is retried alone and fails alone
                self.split += 1
                for save in batch:
                    self._write_one(save)
                return
            self._answer(batch, recordings)
        finally:
            self.batches += 1
            self.saves += len(batch)
            for save in batch:
                save.done = True
                save.wake.set()

    def _write_one(self, save: _Save) -> None:
        try:
            save.recordings = self._record(save.event)
        except BaseException as error:  # noqa: BLE001 - handed to the caller to raise
            save.error = error

    @staticmethod
    def _answer(batch: list[_Save], recordings: list[Any]) -> None:
        """Give each save the recordings of its own events (recorded in batch order)."""
        at = 0
        for save in batch:
            count = len(save.event.events)
            save.recordings = recordings[at:at + count]
            at += count
