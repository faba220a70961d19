"""Callback queue: the outbound calls the robot owes, with the instant each is due.

Two kinds of job, one row each in ``rexian_callback_queue``:

* ``callback`` (回访): created when an order reaches 已办结 (Resolved, Answered), due
  ``days_after_completion`` days later within calling hours (policy ``[callback]``). Every
  CallAttempted of purpose 回访 counts an attempt: a failed or inconclusive attempt makes the
  job due again ``retry_interval`` later, within calling hours. 空号/停机, or the last allowed
  attempt, mark it ``exhausted``: due at once, and the dialler records 无法联系 without dialling
  again (in the normal flow the robot already did so right after the call; the row is the
  safety net if it crashed in between). The row goes away when the callback result is
  recorded (CallbackArchived, Reopened), when a human takes over (HumanHandoffRequested) or
  when the order leaves 已办结 in any other way. After an erasure (PersonalDataErased) the
  jobs keep no citizen id; the dialler, finding no number, records 无法联系.
* ``reminder``: one per OutboundCallRequested (deadline ladder: unit reminders, citizen ETA
  notices), due at once within calling hours; dialled once — the first CallAttempted with its
  call id removes it. Reminders of an order that is no longer open are dropped.

Call ids tie attempts to jobs: the dialler calls ``<job_id>-try<N>`` (``-try<N>-r<K>`` for
the K-th redial of attempt N after the engine was overloaded: such a failed call is never
reported, so it spends none of the contact's attempts). A CallAttempted of purpose 回访
whose call id names no job (e.g. a telephony system reporting through gRPC or Kafka)
counts against the order's current callback job.

Instants are computed from event timestamps and the policy only, so a rebuild gives the
same queue. ``claimed_until`` (wall-clock epoch) is not projected state: the dialler sets it
to lease a job while its call is in progress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Notification

from domain.lifecycle import OPEN_STATES, RESOLVED
from domain.policies.deadlines import DeadlinePolicy
from domain.policies.policy_file import CallbackSettings
from domain.workorder import STATE_EVENTS, WorkOrder
from projections.sql import Cursor

QUEUE = "rexian_callback_queue"
ORDERS = "rexian_callback_orders"
CALLBACK_PURPOSES = ("", "回访", "callback")
UNREACHABLE = ("空号", "停机")
_TRY = re.compile(r"-try\d+(?:-r\d+)?$")


def job_of_call(call_id: str) -> str:
    """The job a dialler call id belongs to: '<job_id>-try<N>[-r<K>]' -> '<job_id>'."""
    return _TRY.sub("", call_id)


def call_id_for(job_id: str, attempt: int, redial: int = 0) -> str:
    """Attempt N's call id; its K-th redial after an overloaded call (the attempt did not
    count: the engine, not the contact, failed) gets '-r<K>', as every call needs its own."""
    return f"{job_id}-try{attempt}" + (f"-r{redial}" if redial else "")


class CallingHours:
    """When the robot may call (policy [callback]: calling_hours_start/end, local time)."""

    def __init__(self, settings: CallbackSettings, timezone: ZoneInfo) -> None:
        self.settings = settings
        self.timezone = timezone

    def contains(self, instant: datetime) -> bool:
        local = instant.astimezone(self.timezone).timetz().replace(tzinfo=None)
        return self.settings.calling_hours_start <= local < self.settings.calling_hours_end

    def next_slot(self, instant: datetime) -> datetime:
        """``instant`` if within calling hours, else the next opening (local time)."""
        local = instant.astimezone(self.timezone)
        opens = datetime.combine(local.date(), self.settings.calling_hours_start,
                                 tzinfo=self.timezone)
        closes = datetime.combine(local.date(), self.settings.calling_hours_end,
                                  tzinfo=self.timezone)
        if local < opens:
            return opens
        if local >= closes:
            return datetime.combine(local.date() + timedelta(days=1),
                                    self.settings.calling_hours_start, tzinfo=self.timezone)
        return local

    def first_callback(self, completed_at: datetime) -> datetime:
        return self.next_slot(completed_at + timedelta(days=self.settings.days_after_completion))

    def retry(self, attempted_at: datetime) -> datetime:
        return self.next_slot(attempted_at + self.settings.retry_interval)


@dataclass(frozen=True)
class DialJob:
    """One row of the queue, as the dialler sees it."""

    job_id: str
    ticket_no: str
    kind: str  # callback | reminder
    purpose: str
    due_at: datetime
    attempts: int
    exhausted: bool
    last_outcome: str | None
    target_role: str | None
    target_dept: str | None
    citizen_id: str | None
    phone: str | None
    script: str | None
    category: str | None

    @property
    def next_attempt(self) -> int:
        return self.attempts + 1


_COLUMNS = ("job_id, ticket_no, kind, purpose, due_at, attempts, exhausted, last_outcome, "
            "target_role, target_dept, citizen_id, phone, script")


class CallbackQueue:
    name = "callback_queue"

    def __init__(self, settings: CallbackSettings | None = None,
                 timezone: ZoneInfo | None = None) -> None:
        policy = DeadlinePolicy.default().settings
        self.settings = settings or policy.callback
        self.hours = CallingHours(self.settings, timezone or policy.timezone)

    @classmethod
    def for_policy(cls, policy: Any) -> CallbackQueue:
        """From the engine's deadline policy (a DeadlinePolicy, or None for the default)."""
        settings = getattr(policy, "settings", None)
        if settings is None:
            return cls()
        return cls(settings.callback, settings.timezone)

    # ----- schema -------------------------------------------------------------------
    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {QUEUE} (job_id TEXT PRIMARY KEY, "
            "originator_id TEXT NOT NULL, ticket_no TEXT NOT NULL, kind TEXT NOT NULL, "
            "purpose TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL, "
            "attempts INTEGER NOT NULL, exhausted INTEGER NOT NULL, last_outcome TEXT, "
            "target_role TEXT, target_dept TEXT, citizen_id TEXT, phone TEXT, script TEXT, "
            "claimed_until DOUBLE PRECISION)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {QUEUE}_due ON {QUEUE} (due_at)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {QUEUE}_order ON {QUEUE} (originator_id)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ORDERS} (originator_id TEXT PRIMARY KEY, "
                    "ticket_no TEXT NOT NULL, category TEXT NOT NULL)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {QUEUE}")
        cur.execute(f"DROP TABLE IF EXISTS {ORDERS}")

    # ----- events -------------------------------------------------------------------
    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if not isinstance(event, WorkOrder.Event):
            return  # another aggregate's event (e.g. a HolidayArrangement)
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            cur.execute(f"INSERT INTO {ORDERS} (originator_id, ticket_no, category) "
                        "VALUES (?, ?, ?) ON CONFLICT (originator_id) DO NOTHING",
                        (oid, event.ticket_no, event.category))
            return
        if isinstance(event, WorkOrder.Resolved | WorkOrder.Answered) and \
                event.state == RESOLVED:
            self._schedule_callback(cur, oid, event)
        elif isinstance(event, WorkOrder.CallAttempted):
            self._attempted(cur, oid, event)
        elif isinstance(event, WorkOrder.OutboundCallRequested):
            self._request_reminder(cur, oid, event)
        elif isinstance(event, WorkOrder.CallbackArchived | WorkOrder.Reopened
                        | WorkOrder.HumanHandoffRequested):
            self._drop(cur, oid, "callback")
        elif isinstance(event, WorkOrder.PersonalDataErased):
            # 删除权: the pseudonym goes; the jobs stay, so the dialler (finding no number)
            # records 无法联系 for a callback instead of leaving the order unanswered.
            cur.execute(f"UPDATE {QUEUE} SET citizen_id = NULL WHERE originator_id = ?",
                        (oid,))
        if isinstance(event, STATE_EVENTS):
            if event.state != RESOLVED:
                self._drop(cur, oid, "callback")
            if event.state not in OPEN_STATES:
                self._drop(cur, oid, "reminder")

    def _ticket(self, cur: Cursor, oid: str) -> str | None:
        row = cur.execute(f"SELECT ticket_no FROM {ORDERS} WHERE originator_id = ?",
                          (oid,)).fetchone()
        return None if row is None else str(row[0])

    def _schedule_callback(self, cur: Cursor, oid: str, event: Any) -> None:
        ticket_no = self._ticket(cur, oid)
        if ticket_no is None:
            return
        self._drop(cur, oid, "callback")  # one callback job per order at a time
        job_id = f"{ticket_no}-cb{event.originator_version}"
        due = self.hours.first_callback(event.timestamp)
        cur.execute(f"INSERT INTO {QUEUE} (job_id, originator_id, ticket_no, kind, purpose, "
                    "due_at, attempts, exhausted) VALUES (?, ?, ?, 'callback', '回访', ?, 0, 0) "
                    "ON CONFLICT (job_id) DO NOTHING",
                    (job_id, oid, ticket_no, due.timestamp()))

    def _attempted(self, cur: Cursor, oid: str, event: Any) -> None:
        job_id = job_of_call(event.call_id)
        row = cur.execute(f"SELECT kind, attempts FROM {QUEUE} WHERE job_id = ? AND "
                          "originator_id = ?", (job_id, oid)).fetchone()
        if row is None and event.purpose in CALLBACK_PURPOSES:
            # An attempt reported by another telephony system: the order's callback job.
            row_job = cur.execute(f"SELECT job_id, kind, attempts FROM {QUEUE} WHERE "
                                  "originator_id = ? AND kind = 'callback'", (oid,)).fetchone()
            if row_job is not None:
                job_id, row = str(row_job[0]), (row_job[1], row_job[2])
        if row is None:
            return
        if row[0] == "reminder":
            cur.execute(f"DELETE FROM {QUEUE} WHERE job_id = ?", (job_id,))  # dialled once
            return
        attempts = max(int(row[1]) + 1, int(event.attempt or 0))
        exhausted = event.outcome in UNREACHABLE or attempts >= self.settings.attempts
        due = event.timestamp if exhausted else self.hours.retry(event.timestamp)
        cur.execute(f"UPDATE {QUEUE} SET attempts = ?, exhausted = ?, last_outcome = ?, "
                    "due_at = ? WHERE job_id = ?",
                    (attempts, int(exhausted), event.outcome, due.timestamp(), job_id))

    def _request_reminder(self, cur: Cursor, oid: str, event: Any) -> None:
        ticket_no = self._ticket(cur, oid)
        if ticket_no is None:
            return
        due = self.hours.next_slot(event.timestamp)
        cur.execute(f"INSERT INTO {QUEUE} (job_id, originator_id, ticket_no, kind, purpose, "
                    "due_at, attempts, exhausted, target_role, target_dept, citizen_id, phone, "
                    "script) VALUES (?, ?, ?, 'reminder', ?, ?, 0, 0, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (job_id) DO NOTHING",
                    (event.call_id, oid, ticket_no, event.purpose, due.timestamp(),
                     event.target_role, event.target_dept, event.citizen_id, event.phone,
                     event.script))

    @staticmethod
    def _drop(cur: Cursor, oid: str, kind: str) -> None:
        cur.execute(f"DELETE FROM {QUEUE} WHERE originator_id = ? AND kind = ?", (oid, kind))


# --------------------------------------------------------------------------- queries


def _job(row: Any, timezone: ZoneInfo) -> DialJob:
    return DialJob(
        job_id=row[0], ticket_no=row[1], kind=row[2], purpose=row[3],
        due_at=datetime.fromtimestamp(float(row[4]), timezone), attempts=int(row[5]),
        exhausted=bool(row[6]), last_outcome=row[7], target_role=row[8], target_dept=row[9],
        citizen_id=row[10], phone=row[11], script=row[12], category=row[13])


def due_jobs(cur: Cursor, now: datetime, wall_now: float, limit: int = 1000,
             timezone: ZoneInfo | None = None) -> list[DialJob]:
    """Jobs due at ``now`` (engine clock) and not leased at ``wall_now`` (epoch seconds),
    soonest first."""
    rows = cur.execute(
        f"SELECT q.job_id, q.ticket_no, q.kind, q.purpose, q.due_at, q.attempts, q.exhausted, "
        "q.last_outcome, q.target_role, q.target_dept, q.citizen_id, q.phone, q.script, "
        f"o.category FROM {QUEUE} q LEFT JOIN {ORDERS} o ON o.originator_id = q.originator_id "
        "WHERE q.due_at <= ? AND (q.claimed_until IS NULL OR q.claimed_until < ?) "
        "ORDER BY q.due_at, q.job_id LIMIT ?",
        (now.timestamp(), wall_now, limit)).fetchall()
    tz = timezone or now.tzinfo or ZoneInfo("Asia/Shanghai")
    return [_job(r, tz) for r in rows]  # type: ignore[arg-type]


def pending_jobs(cur: Cursor, ticket_no: str | None = None,
                 timezone: ZoneInfo | None = None) -> list[DialJob]:
    """Every queued job (of one order), soonest first."""
    where, params = ("WHERE q.ticket_no = ?", (ticket_no,)) if ticket_no else ("", ())
    rows = cur.execute(
        f"SELECT q.job_id, q.ticket_no, q.kind, q.purpose, q.due_at, q.attempts, q.exhausted, "
        "q.last_outcome, q.target_role, q.target_dept, q.citizen_id, q.phone, q.script, "
        f"o.category FROM {QUEUE} q LEFT JOIN {ORDERS} o ON o.originator_id = q.originator_id "
        f"{where} ORDER BY q.due_at, q.job_id", params).fetchall()
    return [_job(r, timezone or ZoneInfo("Asia/Shanghai")) for r in rows]


def claim(cur: Cursor, job_id: str, wall_now: float, lease_s: float) -> bool:
    """Lease a job for its call; False if another dialler holds it."""
    cur.execute(f"UPDATE {QUEUE} SET claimed_until = ? WHERE job_id = ? AND "
                "(claimed_until IS NULL OR claimed_until < ?)",
                (wall_now + lease_s, job_id, wall_now))
    return cur.rowcount == 1


def release(cur: Cursor, job_id: str, until: float | None = None) -> None:
    """End a lease (``until``: keep the job away until this wall-clock time, e.g. backoff)."""
    cur.execute(f"UPDATE {QUEUE} SET claimed_until = ? WHERE job_id = ?", (until, job_id))


def drop(cur: Cursor, job_id: str) -> None:
    """Remove a job that cannot be dialled at all (e.g. the citizen's data was erased)."""
    cur.execute(f"DELETE FROM {QUEUE} WHERE job_id = ?", (job_id,))
