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

Admission control (``admission``, issue 17): a pass leases only as many jobs as the
``Admission`` has places for; the rest stay in the queue until calls end, and every call
waits for its start slot. A call that failed because the engine was overloaded (its answer
came after the listening window, or none was heard while the media ran far behind real
time) is not reported at all: the same attempt is redialled (``-r<K>``) when a place is
free, so load never spends a contact's attempts nor records a result from a damaged
answer. After ``MAX_REDIALS`` such redials the attempt is recorded like any other, without
the suspect answer.

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
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from adapters.asr.intent import UNRECOGNIZED
from adapters.telephony.admission import Admission, AdmissionSettings, CallHealth, overloaded
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
MAX_REDIALS = 3  # overloaded calls redialled per attempt before it is recorded anyway


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
    redial: int = 0  # redials of this attempt after overloaded calls
    queued_s: float | None = None  # from the start of the pass to this call's dial

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


def prepare_due(engine: Any, *, limit: int = 100, lease_s: float = LEASE_S,
                exclude: set[str] | frozenset[str] = frozenset()) -> list[DialJob]:
    """Catch the queue up and lease up to ``limit`` jobs due now, skipping ``exclude``
    (outside calling hours: only the exhausted ones, which need no call)."""
    if limit <= 0:
        return []
    runner = queue_runner(engine)
    runner.catch_up()
    queue = _queue(engine)
    now = engine.service.now()
    wall = time.time()
    calling = queue.hours.contains(now)
    with engine.db.transaction() as cur:
        jobs = due_jobs(cur, now, wall, limit=limit + len(exclude),
                        timezone=queue.hours.timezone)
        leased: list[DialJob] = []
        for job in jobs:
            if len(leased) >= limit:
                break
            if job.job_id not in exclude and (job.exhausted or calling) and \
                    claim(cur, job.job_id, wall, lease_s):
                leased.append(job)
        return leased


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


async def run_job(engine: Any, robot: CallbackRobot, job: DialJob, *, redial: int = 0,
                  may_redial: bool = False) -> JobOutcome:
    """Call for one leased job and record what came of it; always ends the lease, except
    after an overloaded call when ``may_redial``: then nothing is reported, the lease is
    kept and the outcome is "overloaded" (the caller redials the same attempt)."""
    attempt = job.next_attempt
    outcome = JobOutcome(job.job_id, job.ticket_no, job.kind, attempt, None, "skipped",
                         redial=redial)
    backoff: float | None = None
    keep_lease = False
    try:
        if job.exhausted:
            outcome.outcome = "exhausted"
            outcome.actions = _report(engine, report_id=f"{job.job_id}:exhausted",
                                      ticket_no=job.ticket_no, kind="dial_outcome",
                                      outcome="exhausted", purpose=job.purpose)
            outcome.result = "无法联系" if "record_callback" in outcome.actions else None
            _drop(engine, job)
            return outcome
        call_id = call_id_for(job.job_id, attempt, redial)
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
        if overloaded(call):
            if may_redial:
                log.warning("call %s failed under load (%s): redialling, attempt %d not "
                            "spent", call_id, call.media, attempt)
                outcome.outcome, keep_lease = "overloaded", True
                return outcome
            if call.media is not None and call.media.late_speech:
                # What was heard may be the tail of an answer the robot talked over.
                call.intent, outcome.intent = UNRECOGNIZED, UNRECOGNIZED
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
            # an overloaded call's job stays leased for its redial
            release(cur, job.job_id, time.time() + LEASE_S if keep_lease else backoff)


async def admitted_job(engine: Any, robot: CallbackRobot, job: DialJob, gate: Admission,
                       *, epoch: float | None = None,
                       max_redials: int = MAX_REDIALS) -> list[JobOutcome]:
    """One leased job through admission control: wait for a place, call, and redial the
    same attempt (up to MAX_REDIALS) while calls fail because of load. Returns every call
    made, the deciding one last."""
    outcomes: list[JobOutcome] = []
    redial = 0
    while True:
        started = None if job.exhausted else await gate.acquire()  # no call: no place
        outcome: JobOutcome | None = None
        try:
            outcome = await run_job(engine, robot, job, redial=redial,
                                    may_redial=redial < max_redials)
        except Exception:  # noqa: BLE001 - one broken call must not stop the others
            log.exception("dialler job %s failed", job.job_id)
            outcome = JobOutcome(job.job_id, job.ticket_no, job.kind, job.next_attempt, None,
                                 "error", redial=redial)
        finally:
            if started is not None:
                call = outcome.call if outcome is not None else None
                gate.finished(started, CallHealth.of(
                    call, outcome is not None and outcome.outcome == "overloaded"))
        if started is not None and epoch is not None:
            outcome.queued_s = started - epoch
        outcomes.append(outcome)
        if outcome.outcome != "overloaded":
            return outcomes
        redial += 1


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


def default_admission(robot: Any, concurrency: int | None = None) -> Admission:
    """Admission for ``robot``: ASR pacing from its pool, at most ``concurrency`` calls."""
    settings = AdmissionSettings()
    if concurrency is not None:
        settings = AdmissionSettings(initial=min(settings.initial, concurrency),
                                     maximum=concurrency)
    return Admission(settings, asr=getattr(robot, "asr", None))


async def dial_due_async(engine: Any, robot: CallbackRobot, *, limit: int = 100,
                         concurrency: int | None = None, admission: Admission | None = None,
                         max_redials: int = MAX_REDIALS) -> list[JobOutcome]:
    """One pass: every due job (at most ``limit``) called through admission control and
    recorded; returns every call made (an overloaded call and its redial are two).

    Jobs are leased only when admission has a place for them, so a job waiting for
    capacity stays in the queue (another dialler may take it). ``concurrency`` caps the
    admitted calls (default: ``AdmissionSettings.maximum``)."""
    gate = admission or default_admission(robot, concurrency)
    epoch = time.monotonic()
    seen: set[str] = set()
    tasks: set[asyncio.Task[list[JobOutcome]]] = set()
    outcomes: list[JobOutcome] = []
    while True:
        room = min(gate.admitted - len(tasks), limit - len(seen))
        jobs = prepare_due(engine, limit=room, exclude=seen) if room > 0 else []
        for job in jobs:
            seen.add(job.job_id)
            tasks.add(asyncio.ensure_future(admitted_job(engine, robot, job, gate, epoch=epoch,
                                                         max_redials=max_redials)))
        if not tasks:
            return outcomes
        done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for finished in done:
            outcomes += finished.result()


class Dialler:
    """The robot on a background event loop, for synchronous callers (``rexian serve``).

    ``free_slots`` are the admission's free places; each submitted job waits for its start
    slot on the loop and is redialled there if its call fails because of load."""

    def __init__(self, gateway_url: str, *, asr: AsrPool | None = None,
                 concurrency: int | None = None, settings: RobotSettings | None = None,
                 robot_factory: Callable[[], CallbackRobot] | None = None,
                 admission: Admission | None = None) -> None:
        self._owned_asr = AsrPool() if asr is None and robot_factory is None else None
        self.robot = (robot_factory() if robot_factory else
                      CallbackRobot(gateway_url, asr or self._owned_asr or AsrPool(),
                                    settings=settings or RobotSettings()))
        self.admission = admission or default_admission(self.robot, concurrency)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dialler",
                                        daemon=True)
        self._thread.start()
        self._inflight: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()
        self.finished: deque[JobOutcome] = deque(maxlen=1000)
        if self._owned_asr is not None:  # models load now, not while the first citizen waits
            asyncio.run_coroutine_threadsafe(self._owned_asr.warm_up(), self._loop
                                             ).add_done_callback(_log_failure)

    @property
    def concurrency(self) -> int:
        return self.admission.admitted

    @property
    def free_slots(self) -> int:
        with self._lock:
            return max(0, self.admission.admitted - len(self._inflight))

    def submit(self, engine: Any, jobs: list[DialJob]) -> list[str]:
        return [self.start(job.job_id, admitted_job(engine, self.robot, job, self.admission))
                for job in jobs]

    def start(self, key: str, work: Coroutine[Any, Any, Any]) -> str:
        """Run one call's coroutine on the loop (it takes its place from ``admission``
        itself); it counts against ``free_slots`` until it ends. Campaign calls come
        through here too (adapters/telephony/campaign_dialler.py)."""
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        with self._lock:
            self._inflight[key] = future
        future.add_done_callback(functools.partial(self._done, key))
        return key

    def run(self, work: Coroutine[Any, Any, Any], timeout: float) -> Any:
        """Run a short coroutine on the loop and wait for its result (signalling that
        needs the loop's HTTP session, e.g. claiming inbound calls)."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def _done(self, job_id: str, future: Future[Any]) -> None:
        with self._lock:
            self._inflight.pop(job_id, None)
        if not future.cancelled() and future.exception() is None:
            result = future.result()
            if isinstance(result, list):  # a callback job's calls (campaign calls: one result)
                self.finished.extend(result)
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


def _log_failure(future: Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("loading the ASR models failed", exc_info=future.exception())


def dial_due(engine: Any, dialler: Dialler) -> list[str]:
    """The serve-loop step: lease the due jobs and start their calls; returns the job ids
    started. Results are recorded in the background as each call ends."""
    slots = dialler.free_slots
    if slots == 0:
        return []
    return dialler.submit(engine, prepare_due(engine, limit=slots))
