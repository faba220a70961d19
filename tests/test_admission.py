"""Admission control (issue 17): the dialler places only the calls the path can carry.

Pure rules on an injected clock, the media evidence on synthetic arrivals, and the whole
dialler driving more calls than a scripted capacity on the simulation clock: every call
completes, none is recorded twice, and load never spends a contact's attempts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.telephony.admission import (
    OVERLOAD_STRETCH,
    Admission,
    AdmissionSettings,
    CallHealth,
    overloaded,
)
from adapters.telephony.dialler import MAX_REDIALS, dial_due_async
from adapters.telephony.media import FRAME_S, ArrivalMeter, MediaHealth
from adapters.telephony.robot import CallResult, CallTask, Turn
from domain.workorder import WorkOrder, order_id
from projections.callback_queue import call_id_for, job_of_call
from tests.conftest import SimClock
from tests.test_callback_queue import resolved

HEALTHY = CallHealth(stretch=1.0, asr_s=1.0, asr_jobs=1)


class Ticks:
    """A manual monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeAsr:
    workers = 2

    def __init__(self, service_s: float | None) -> None:
        self.service_s = service_s


def gate(**settings: Any) -> tuple[Admission, Ticks]:
    ticks = Ticks()
    return Admission(AdmissionSettings(**settings), clock=ticks), ticks


def test_slow_start_grows_by_one_per_healthy_call_at_the_limit() -> None:
    admission, ticks = gate(initial=2, maximum=4)
    starts = [admission.begin() for _ in range(2) if admission.take() == 0.0]
    assert admission.take() is None  # both places taken
    for _ in range(2):
        admission.finished(starts.pop(0), HEALTHY)
        while admission.take() == 0.0:  # fill the places the limit now has
            starts.append(admission.begin())
    assert admission.admitted == 4 and admission.inflight == 4
    admission.finished(starts.pop(0), HEALTHY)
    assert admission.admitted == 4  # the maximum
    admission.finished(starts.pop(0), HEALTHY)  # 2 of 4 busy: nothing held back, no growth
    assert admission.history == [(100.0, 3), (100.0, 4)]


def test_overload_cuts_once_per_generation_then_grows_slowly() -> None:
    admission, ticks = gate(initial=10)
    starts = [admission.begin() for _ in range(10) if admission.take() is not None]
    ticks.now += 5
    admission.finished(starts[0], CallHealth(stretch=4.0))
    assert admission.admitted == 7 and admission.cuts == 1
    for started in starts[1:4]:  # the same generation: no further cut
        admission.finished(started, CallHealth(late_speech=1))
    assert admission.admitted == 7 and admission.cuts == 1
    ticks.now += 1
    later = admission.begin()  # started after the cut: its overload counts
    admission.finished(later, CallHealth(overloaded=True))
    assert admission.admitted == 4 and admission.cuts == 2
    for started in starts[4:]:  # the rest of the first generation finish healthy
        admission.finished(started, HEALTHY)
    assert admission.inflight == 0
    for _ in range(4):  # congestion avoidance: +1/limit per healthy call at the limit
        admission.take()
    grown = [admission.begin() for _ in range(4)]
    for started in grown:
        admission.finished(started, HEALTHY)
    assert admission.admitted == 5


def test_answers_queueing_for_asr_cut_too_and_the_floor_holds() -> None:
    ticks = Ticks()
    admission = Admission(AdmissionSettings(initial=2, asr_wait_limit_s=3.0),
                          asr=FakeAsr(4.0), clock=ticks)
    admission.take()
    admission.finished(admission.begin(), CallHealth(stretch=1.0, asr_s=6.5, asr_jobs=1))
    assert admission.admitted == 2  # 4 s transcription + 2.5 s wait: slow, not queueing
    for _ in range(5):
        admission.take()
        admission.finished(admission.begin(), CallHealth(stretch=1.0, asr_s=9.0, asr_jobs=1))
    assert admission.admitted == 1


def test_starts_are_spaced_by_the_asr_throughput() -> None:
    ticks = Ticks()
    settings = AdmissionSettings(initial=8, utilisation=0.8, prior_service_s=2.5)
    unmeasured = Admission(settings, asr=FakeAsr(None), clock=ticks)
    assert unmeasured.spacing_s() == pytest.approx(2.5 / 2 / 0.8)
    admission = Admission(settings, asr=FakeAsr(2.0), clock=ticks)
    waits = [admission.take() for _ in range(3)]
    assert waits == pytest.approx([0.0, 1.25, 2.5])  # 2 s per answer, 2 workers, 80 %
    assert Admission(settings, clock=ticks).spacing_s() == 0.0  # no ASR: no pacing


def call(intent: str | None, media: MediaHealth | None, kind: str = "callback",
         acknowledged: bool | None = None) -> CallResult:
    return CallResult("c", "1", "T", kind, "回访", outcome="answered", intent=intent,
                      media=media, acknowledged=acknowledged)


def test_overload_evidence() -> None:
    lagging = MediaHealth(stretch=OVERLOAD_STRETCH, late_speech=0)
    assert overloaded(call("未识别", lagging))  # nothing usable, media far behind
    assert not overloaded(call("满意", lagging))  # heard whole (end of speech is media time)
    assert overloaded(call("满意", MediaHealth(1.0, late_speech=1)))  # maybe a tail
    assert not overloaded(call("未识别", MediaHealth(1.1, 0)))  # an honest 未识别
    assert not overloaded(call("未识别", None))
    assert not overloaded(call(None, lagging, kind="reminder"))  # no acknowledgement asked
    assert overloaded(call(None, lagging, kind="reminder", acknowledged=False))
    health = CallHealth.of(CallResult("c", "1", "T", "callback", "回访", "answered",
                                      turns=[Turn(["q"], 1.2, asr_s=3.0), Turn(["q"], None)],
                                      media=MediaHealth(1.1, 0)))
    assert (health.asr_s, health.asr_jobs, health.stretch) == (3.0, 1, 1.1)


def test_arrival_meter_measures_how_far_behind_real_time_audio_arrives() -> None:
    meter = ArrivalMeter()
    for i in range(50):  # real time
        meter.add(i * FRAME_S)
    for i in range(50):  # after a pause: a burst arriving 4x slower than real time
        meter.add(10.0 + i * 4 * FRAME_S)
    assert meter.bursts == 1 and meter.stretch == pytest.approx(4.0)
    short = ArrivalMeter()
    for i in range(5):
        short.add(i * 0.1)
    assert short.stretch == 0.0  # too few frames to say


def test_redial_call_ids_name_their_job() -> None:
    assert call_id_for("202510010001-cb4", 2, 1) == "202510010001-cb4-try2-r1"
    assert job_of_call("202510010001-cb4-try2-r1") == "202510010001-cb4"
    assert call_id_for("202510010001-cb4", 2) == "202510010001-cb4-try2"


# ----- the dialler under more calls than the path can carry ------------------------------


class CapacityRobot:
    """Stands in for CallbackRobot on a path that carries ``capacity`` calls: a call that
    overlaps more than that many calls has its answer arrive after the listening window
    (late speech, 4x stretched media) and hears nothing usable, as measured at 40 calls."""

    def __init__(self, capacity: int, intents: dict[str, str]) -> None:
        self.capacity = capacity
        self.intents = intents
        self.active = 0
        self.peak = 0
        self.calls: list[str] = []
        self.overloaded = 0

    async def call(self, task: CallTask, *, progress: Any = None) -> CallResult:
        self.calls.append(task.call_id)
        self.active += 1
        self.peak = max(self.peak, self.active)
        crowded = self.active
        try:
            for _ in range(3):
                await asyncio.sleep(0.005)
                crowded = max(crowded, self.active)
        finally:
            self.active -= 1
        result = CallResult(task.call_id, task.number, task.ticket_no, task.kind, task.purpose,
                            outcome="answered", answer_end=0.0)
        if crowded > self.capacity:
            self.overloaded += 1
            result.intent, result.media = "未识别", MediaHealth(4.0, late_speech=1)
        else:
            result.intent = result.transcript = self.intents[task.number]
            result.media = MediaHealth(1.05, 0)
            result.turns = [Turn(["question"], 1.0, result.intent, asr_s=1.0)]
        return result


@pytest.fixture
def eng(tmp_path: Path, clock: SimClock) -> Iterator[Engine]:
    built = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield built
    built.close()


def test_more_calls_than_capacity_all_complete_once_without_spending_attempts(
        eng: Engine, clock: SimClock) -> None:
    s = eng.service
    answers = ("满意", "不满意", "基本满意", "转人工")
    intents: dict[str, str] = {}
    tickets: dict[str, str] = {}
    for i in range(24):
        phone = f"1380013{i:04d}"
        intents[phone] = tickets[resolved(eng, phone)] = answers[i % 4]
    clock.set("2025-10-01T09:00")
    robot = CapacityRobot(capacity=3, intents=intents)
    admission = Admission(AdmissionSettings(initial=8, maximum=24))
    outcomes = asyncio.run(dial_due_async(eng, robot, admission=admission))  # type: ignore[arg-type]

    assert robot.overloaded > 0 and admission.cuts > 0  # it was overloaded, and backed off
    found = next(i for i, (_, n) in enumerate(admission.history) if n <= robot.capacity)
    # once down to the capacity it probes at most one call above it
    assert max(n for _, n in admission.history[found:]) <= robot.capacity + 1
    assert max(o.redial for o in outcomes) <= MAX_REDIALS
    assert len(robot.calls) == len(set(robot.calls))  # every call its own id
    for ticket, answer in tickets.items():
        events = list(s.events.get(order_id(ticket)))
        attempts = [e for e in events if isinstance(e, WorkOrder.CallAttempted)]
        results = [e for e in events if isinstance(
            e, WorkOrder.CallbackArchived | WorkOrder.Reopened | WorkOrder.HumanHandoffRequested)]
        assert len(attempts) == 1 and attempts[0].attempt == 1, ticket  # budget unspent
        assert len(results) == 1, ticket  # recorded once
        view = s.show(ticket)
        if answer == "转人工":
            assert view["handoffs"] and view["state"] == "已办结"
        elif answer == "不满意":
            assert view["state"] == "办理中" and view["reopen_count"] == 1
        else:
            assert view["state"] == "已归档" and view["callback"]["result"] == answer
    assert sum(o.outcome == "overloaded" for o in outcomes) == robot.overloaded
    # nothing left to dial: a second pass places no call
    assert asyncio.run(dial_due_async(eng, robot)) == []  # type: ignore[arg-type]


def test_an_attempt_still_overloaded_after_the_redials_keeps_no_suspect_answer(
        eng: Engine, clock: SimClock) -> None:
    ticket = resolved(eng, "13800139999")
    clock.set("2025-10-01T09:00")

    class AlwaysLate(CapacityRobot):
        async def call(self, task: CallTask, *, progress: Any = None) -> CallResult:
            self.calls.append(task.call_id)
            return CallResult(task.call_id, task.number, task.ticket_no, task.kind,
                              task.purpose, outcome="answered", intent="满意",
                              media=MediaHealth(4.0, late_speech=1), answer_end=0.0)

    robot = AlwaysLate(capacity=0, intents={})
    outcomes = asyncio.run(dial_due_async(eng, robot))  # type: ignore[arg-type]
    assert [o.outcome for o in outcomes] == ["overloaded"] * MAX_REDIALS + ["answered"]
    assert robot.calls[-1].endswith(f"-try1-r{MAX_REDIALS}")
    view = eng.service.show(ticket)
    # The one recorded attempt spends one try; the 满意 heard over a late answer is not kept.
    assert len(view["call_attempts"]) == 1 and view["state"] == "已办结"
    assert view["callback"] is None or view["callback"].get("result") != "满意"

