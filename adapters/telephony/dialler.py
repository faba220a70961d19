"""The dialler: due jobs from the callback queue → robot calls → reports → domain commands.

``dial_due_async(engine, robot)`` is one pass: bring the queue up to date, lease every job
due at the engine's clock (calls only within calling hours), place the calls concurrently
and, as each call ends, turn its outcome into reports for ``adapters.telephony_reports``
(the path the gRPC TelephonyService and the Kafka consumer use too), so every result is
recorded idempotently by report id:

* ``<call_id>:dial`` — the dial outcome → ``record_call`` (every dial). For a callback that
  was not answered, 空号/停机 or the last allowed attempt set ``attempts_exhausted``: the
  same report records 无法联系 at once;
* ``<call_id>:intent`` — 满意/基本满意/不满意 → ``record_callback`` (不满意 reopens);
  转人工 → ``request_handoff`` with the transcript (no result recorded);
* ``<call_id>:exhausted`` — answered, but still no usable answer on the last attempt → 无法联系.

A job the queue marks ``exhausted`` (the safety net for a crash between the call and its
reports) is not dialled: its 无法联系 is recorded directly.

``dial_due(engine, dialler)`` is the synchronous step for ``rexian serve``: it leases the
due jobs and starts their calls on the ``Dialler``'s background event loop, returning at
once; calls finish (and record) in the background while ticks go on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from adapters.telephony.asr import AsrPool
from adapters.telephony.robot import (
    CallbackRobot,
    CallResult,
    CallTask,
    ProgressInfo,
    ProgressLookup,
    RobotSettings,
)
from adapters.telephony.script import UnvoiceableScript
from adapters.telephony_reports import TelephonyReport, apply_report_detailed
from domain.errors import DomainError
from domain.lifecycle import OPEN_STATES
from domain.service import SHANGHAI
from projections.callback_queue import (
    CallbackQueue,
    DialJob,
    call_id_for,
    claim,
    drop,
    due_jobs,
    release,
)
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)

ADAPTER = "robot"
LEASE_S = 600.0  # a call never lasts this long; a crashed dialler's lease expires
ERROR_BACKOFF_S = 60.0  # gateway unreachable: leave the job alone this long
UNREACHABLE = ("空号", "停机")


@dataclass
class JobOutcome:
    """What one job came to (for drills, benchmarks and logs)."""

    job_id: str
    ticket_no: str
    kind: str
    attempt: int
    call_id: str | None
    outcome: str  # dial outcome | error | exhausted | skipped
    result: str | None = None  # callback result recorded (满意/基本满意/不满意/无法联系)
    handoff: bool = False
    intent: str | None = None
    transcript: str = ""
    actions: list[str] = field(default_factory=list)
    call: CallResult | None = None
    recorded_at: float | None = None  # time.monotonic() when the reports were applied

    @property
    def latency_s(self) -> float | None:
        """From the end of the citizen's deciding answer to its result being recorded."""
        if self.call is None or self.call.answer_end is None or self.recorded_at is None:
            return None
        return self.recorded_at - self.call.answer_end


def queue_runner(engine: Any) -> ProjectionRunner:
    runner: ProjectionRunner = engine.runners["callback_queue"]  # wired by build_engine
    return runner


def _queue(engine: Any) -> CallbackQueue:
    projection = queue_runner(engine).projection
    assert isinstance(projection, CallbackQueue)
    return projection


def engine_progress(engine: Any) -> ProgressLookup:
    """Progress lookup for the robot: state and expected completion date of an order."""
    from domain.errors import UnknownTicket

    def lookup(ticket_no: str) -> ProgressInfo | None:
        try:
            order = engine.service.load(ticket_no)
        except (UnknownTicket, DomainError):
            return None
        expected = None
        if order.state in OPEN_STATES:
            instant = order.due_at
            if order.plan and order.plan.get("clock_no") == order.clock_no:
                instant = _parse(order.plan.get("eta")) or instant
            expected = instant.astimezone(SHANGHAI).date() if instant else None
        return ProgressInfo(order.full_state, expected)  # a sub-state is said as such

    return lookup


def _parse(text: Any) -> Any:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _digits(number: str | None) -> str:
    return re.sub(r"\D", "", number or "")


def prepare_due(engine: Any, *, limit: int = 100, lease_s: float = LEASE_S) -> list[DialJob]:
    """Catch the queue up and lease the jobs due now (outside calling hours: only the
    exhausted ones, which need no call)."""
    runner = queue_runner(engine)
    runner.catch_up()
    queue = _queue(engine)
    now = engine.service.now()
    wall = time.time()
    calling = queue.hours.contains(now)
    with engine.db.transaction() as cur:
        jobs = due_jobs(cur, now, wall, limit=limit, timezone=queue.hours.timezone)
        return [job for job in jobs
                if (job.exhausted or calling) and claim(cur, job.job_id, wall, lease_s)]


def _report(engine: Any, **fields: Any) -> list[str]:
    result = apply_report_detailed(engine, TelephonyReport(adapter=ADAPTER, **fields))
    if result.detail:
        log.info("report %s: %s", fields.get("report_id"), result.detail)
    return [] if result.action == "none" else result.action.split(",")


def _task_for(engine: Any, job: DialJob, call_id: str) -> CallTask | None:
    order = engine.service.load(job.ticket_no)
    if job.kind == "callback" or job.target_role == "citizen":
        personal = engine.vault.open(order.citizen_id, order.personal) if order.personal else None
        number = _digits(personal.phone if personal else None)
    else:
        number = _digits(job.phone)
    if not number:
        return None
    return CallTask(call_id=call_id, number=number, ticket_no=job.ticket_no,
                    kind="callback" if job.kind == "callback" else "reminder",
                    purpose=job.purpose, category=job.category or order.category,
                    script=job.script)


async def run_job(engine: Any, robot: CallbackRobot, job: DialJob) -> JobOutcome:
    """Call for one leased job and record what came of it; always ends the lease."""
    attempt = job.next_attempt
    outcome = JobOutcome(job.job_id, job.ticket_no, job.kind, attempt, None, "skipped")
    backoff: float | None = None
    try:
        if job.exhausted:
            outcome.outcome = "exhausted"
            outcome.actions = _report(engine, report_id=f"{job.job_id}:exhausted",
                                      ticket_no=job.ticket_no, kind="dial_outcome",
                                      outcome="exhausted", purpose=job.purpose)
            outcome.result = "无法联系" if "record_callback" in outcome.actions else None
            _drop(engine, job)
            return outcome
        call_id = call_id_for(job.job_id, attempt)
        outcome.call_id = call_id
        task = _task_for(engine, job, call_id)
        if task is None:
            if job.kind == "callback":  # no number any more (erased): cannot be reached
                outcome.actions = _report(engine, report_id=f"{job.job_id}:nonumber",
                                          ticket_no=job.ticket_no, kind="dial_outcome",
                                          outcome="exhausted", purpose=job.purpose)
                outcome.result = "无法联系" if "record_callback" in outcome.actions else None
            _drop(engine, job)
            return outcome
        try:
            call = await robot.call(task, progress=engine_progress(engine))
        except UnvoiceableScript:
            backoff = time.time() + ERROR_BACKOFF_S  # loud, but not on every tick
            raise
        outcome.call, outcome.outcome = call, call.outcome
        outcome.intent, outcome.transcript = call.intent, call.transcript
        if call.outcome == "error":
            backoff = time.time() + ERROR_BACKOFF_S
            return outcome
        outcome.actions = record_call_result(engine, job, call, attempt)
        outcome.recorded_at = time.monotonic()
        if "record_callback" in outcome.actions:
            outcome.result = call.result or "无法联系"
        outcome.handoff = "request_handoff" in outcome.actions
        return outcome
    except DomainError as error:
        log.warning("job %s: %s", job.job_id, error)
        outcome.outcome = "error"
        backoff = time.time() + ERROR_BACKOFF_S
        return outcome
    finally:
        queue_runner(engine).catch_up()
        with engine.db.transaction() as cur:
            release(cur, job.job_id, backoff)


def _drop(engine: Any, job: DialJob) -> None:
    with engine.db.transaction() as cur:
        drop(cur, job.job_id)


def record_call_result(engine: Any, job: DialJob, call: CallResult, attempt: int) -> list[str]:
    """The call's reports, in order: the dial (always), then the answer or 无法联系."""
    callback = job.kind == "callback"
    last = attempt >= _queue(engine).settings.attempts
    answered = call.outcome == "answered"
    exhausted = callback and not answered and (call.outcome in UNREACHABLE or last)
    actions = _report(engine, report_id=f"{call.call_id}:dial", ticket_no=job.ticket_no,
                      kind="dial_outcome", outcome=call.outcome, attempts_exhausted=exhausted,
                      call_id=call.call_id, purpose=job.purpose, attempt=attempt)
    if callback and answered and (call.result or call.handoff):
        actions += _report(engine, report_id=f"{call.call_id}:intent", ticket_no=job.ticket_no,
                           kind="intent", intent=call.intent, transcript=call.transcript,
                           call_id=call.call_id, purpose=job.purpose, attempt=attempt)
    elif callback and answered and last:
        actions += _report(engine, report_id=f"{call.call_id}:exhausted",
                           ticket_no=job.ticket_no, kind="dial_outcome", outcome="exhausted",
                           call_id=call.call_id, purpose=job.purpose, attempt=attempt)
    return actions


async def dial_due_async(engine: Any, robot: CallbackRobot, *, limit: int = 100,
                         concurrency: int | None = None) -> list[JobOutcome]:
    """One pass: every due job called (at most ``concurrency`` at a time) and recorded."""
    jobs = prepare_due(engine, limit=limit)
    if not jobs:
        return []
    gate = asyncio.Semaphore(concurrency or len(jobs))

    async def one(job: DialJob) -> JobOutcome:
        async with gate:
            try:
                return await run_job(engine, robot, job)
            except Exception:  # noqa: BLE001 - one broken call must not stop the others
                log.exception("dialler job %s failed", job.job_id)
                return JobOutcome(job.job_id, job.ticket_no, job.kind, job.next_attempt, None,
                                  "error")

    return list(await asyncio.gather(*(one(job) for job in jobs)))


class Dialler:
    """The robot on a background event loop, for synchronous callers (``rexian serve``)."""

    def __init__(self, gateway_url: str, *, asr: AsrPool | None = None, concurrency: int = 8,
                 settings: RobotSettings | None = None,
                 robot_factory: Callable[[], CallbackRobot] | None = None) -> None:
        self.concurrency = concurrency
        self._owned_asr = AsrPool() if asr is None and robot_factory is None else None
        self.robot = (robot_factory() if robot_factory else
                      CallbackRobot(gateway_url, asr or self._owned_asr or AsrPool(),
                                    settings=settings or RobotSettings()))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dialler",
                                        daemon=True)
        self._thread.start()
        self._inflight: dict[str, Future[JobOutcome]] = {}
        self._lock = threading.Lock()
        self.finished: deque[JobOutcome] = deque(maxlen=1000)

    @property
    def free_slots(self) -> int:
        with self._lock:
            return max(0, self.concurrency - len(self._inflight))

    def submit(self, engine: Any, jobs: list[DialJob]) -> list[str]:
        started = []
        for job in jobs:
            future = asyncio.run_coroutine_threadsafe(run_job(engine, self.robot, job),
                                                      self._loop)
            with self._lock:
                self._inflight[job.job_id] = future
            future.add_done_callback(functools.partial(self._done, job.job_id))
            started.append(job.job_id)
        return started

    def _done(self, job_id: str, future: Future[JobOutcome]) -> None:
        with self._lock:
            self._inflight.pop(job_id, None)
        if not future.cancelled() and future.exception() is None:
            self.finished.append(future.result())
        elif not future.cancelled():
            log.error("dialler job %s failed", job_id, exc_info=future.exception())

    def wait_idle(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._inflight.values())
            if not pending:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            try:
                pending[0].result(remaining)
            except Exception:  # noqa: BLE001 - logged in _done
                pass

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.robot.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        if self._owned_asr is not None:
            self._owned_asr.close()


def dial_due(engine: Any, dialler: Dialler) -> list[str]:
    """The serve-loop step: lease the due jobs and start their calls; returns the job ids
    started. Results are recorded in the background as each call ends."""
    slots = dialler.free_slots
    if slots == 0:
        return []
    return dialler.submit(engine, prepare_due(engine, limit=slots))
