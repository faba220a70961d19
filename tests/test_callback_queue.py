"""The callback queue projection and the dialler's bookkeeping, with a scripted robot.

No WebRTC and no ASR here (tests/test_telephony_calls.py does the real calls): a fake
robot returns the CallResult each number is scripted to give, so retries, calling hours,
空号/停机, 无法联系, hand-offs and reminders are checked in milliseconds on the simulation
clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.telephony.dialler import dial_due_async, prepare_due, record_call_result
from adapters.telephony.robot import CallResult, CallTask
from adapters.ticker import tick
from domain.policies.escalation import ACK_REQUEST
from domain.policies.policy_file import CallbackSettings
from domain.service import SHANGHAI
from domain.values import Actor
from domain.workorder import WorkOrder, order_id
from projections.callback_queue import (
    QUEUE,
    CallbackQueue,
    CallingHours,
    DialJob,
    call_id_for,
    job_of_call,
    pending_jobs,
)
from tests.conftest import SimClock

AGENT = Actor("agent", "a1")
DEPT = "区城管局"
UNIT = Actor("department", DEPT)


class ScriptedRobot:
    """Stands in for CallbackRobot: each number answers from its script, in order."""

    def __init__(self, scripts: dict[str, list[dict[str, Any]]]) -> None:
        self.scripts = {n: list(s) for n, s in scripts.items()}
        self.tasks: list[CallTask] = []

    async def call(self, task: CallTask, *, progress: Any = None) -> CallResult:
        self.tasks.append(task)
        script = self.scripts.get(task.number) or [{"outcome": "空号"}]
        step = script.pop(0) if len(script) > 1 else script[0]
        return CallResult(task.call_id, task.number, task.ticket_no, task.kind, task.purpose,
                          outcome=step["outcome"], intent=step.get("intent"),
                          transcript=step.get("transcript", step.get("intent") or ""),
                          answer_end=0.0)

    def numbers(self) -> list[str]:
        return [t.number for t in self.tasks]


def resolved(engine: Engine, phone: str, category: str = "投诉") -> str:
    s = engine.service
    ticket = s.intake(channel="电话", category=category, urgency="一般", region="甬江区",
                      content="路灯不亮", caller_name="李四", caller_phone=phone, actor=AGENT)
    s.dispatch(ticket, dept=DEPT, assist=[], actor=AGENT)
    s.sign(ticket, dept=DEPT, actor=UNIT)
    s.resolve(ticket, dept=DEPT, reply="已修复", actor=UNIT)
    return ticket


def dial(engine: Engine, robot: ScriptedRobot) -> list[Any]:
    return asyncio.run(dial_due_async(engine, robot))  # type: ignore[arg-type]


def jobs(engine: Engine, ticket: str | None = None) -> list[DialJob]:
    engine.runners["callback_queue"].catch_up()
    with engine.db.transaction(immediate=False) as cur:
        return pending_jobs(cur, ticket)


def events(engine: Engine, ticket: str) -> list[str]:
    return [e["type"] for e in engine.service.history(ticket)["events"]]


@pytest.fixture
def eng(tmp_path: Path, clock: SimClock) -> Iterator[Engine]:
    built = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield built
    built.close()


# ----- calling hours (pure) --------------------------------------------------------------
HOURS = CallingHours(CallbackSettings(attempts=3, retry_interval=timedelta(minutes=30),
                                      calling_hours_start=time(8), calling_hours_end=time(21),
                                      days_after_completion=1), SHANGHAI)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(("instant", "expected"), [
    ("2025-10-01 09:00", "2025-10-01 09:00"),
    ("2025-10-01 07:59", "2025-10-01 08:00"),
    ("2025-10-01 08:00", "2025-10-01 08:00"),
    ("2025-10-01 20:59", "2025-10-01 20:59"),
    ("2025-10-01 21:00", "2025-10-02 08:00"),
    ("2025-10-01 23:30", "2025-10-02 08:00"),
])
def test_next_calling_slot(instant: str, expected: str) -> None:
    assert HOURS.next_slot(at(instant)) == at(expected)


def test_first_callback_next_day_and_retries_within_hours() -> None:
    assert HOURS.first_callback(at("2025-09-30 15:00")) == at("2025-10-01 15:00")
    assert HOURS.first_callback(at("2025-09-30 22:30")) == at("2025-10-02 08:00")
    assert HOURS.retry(at("2025-10-01 09:00")) == at("2025-10-01 09:30")
    assert HOURS.retry(at("2025-10-01 20:45")) == at("2025-10-02 08:00")
    # An instant given in UTC is judged in Beijing time.
    assert HOURS.next_slot(at("2025-10-01 07:00").astimezone(UTC)) == at("2025-10-01 08:00")
    assert HOURS.contains(at("2025-10-01 12:00").astimezone(UTC))
    assert not HOURS.contains(at("2025-10-01 21:00"))


def test_call_ids_name_their_job() -> None:
    assert call_id_for("202510010001-cb4", 2) == "202510010001-cb4-try2"
    assert job_of_call("202510010001-cb4-try2") == "202510010001-cb4"
    assert job_of_call("external-call-7") == "external-call-7"


# ----- scheduling ----------------------------------------------------------------------
def test_resolution_schedules_a_callback_for_the_next_day(eng: Engine, clock: SimClock) -> None:
    ticket = resolved(eng, "13800138001")
    [job] = jobs(eng, ticket)
    assert (job.kind, job.purpose, job.attempts, job.exhausted) == ("callback", "回访", 0, False)
    assert job.due_at == at("2025-10-01 09:00")
    assert job.category == "投诉"
    robot = ScriptedRobot({"13800138001": [{"outcome": "answered", "intent": "满意"}]})
    assert dial(eng, robot) == []  # not due yet
    clock.set("2025-10-01T09:00")
    [outcome] = dial(eng, robot)
    assert outcome.result == "满意" and outcome.outcome == "answered"
    assert outcome.actions == ["record_call", "record_callback"]
    view = eng.service.show(ticket)
    assert view["state"] == "已归档" and view["callback"]["result"] == "满意"
    assert [a["call_id"] for a in view["call_attempts"]] == [f"{job.job_id}-try1"]
    assert jobs(eng) == []
    assert robot.tasks[0].category == "投诉" and robot.tasks[0].kind == "callback"


def test_dissatisfied_reopens_and_a_second_resolution_schedules_again(
        eng: Engine, clock: SimClock) -> None:
    ticket = resolved(eng, "13800138002")
    clock.set("2025-10-01T10:00")
    robot = ScriptedRobot({"13800138002": [{"outcome": "answered", "intent": "不满意"}]})
    [outcome] = dial(eng, robot)
    view = eng.service.show(ticket)
    assert (view["state"], view["reopen_count"]) == ("办理中", 1)
    assert outcome.result == "不满意"
    assert jobs(eng) == []
    eng.service.resolve(ticket, dept=DEPT, reply="已重新处理", actor=UNIT)
    [job] = jobs(eng, ticket)
    assert job.attempts == 0 and job.due_at == at("2025-10-02 10:00")


def test_no_answer_retries_every_30_minutes_then_unreachable(eng: Engine,
                                                               clock: SimClock) -> None:
    ticket = resolved(eng, "13800138003")
    robot = ScriptedRobot({"13800138003": [{"outcome": "no_answer"}, {"outcome": "busy"},
                                            {"outcome": "no_answer"}]})
    clock.set("2025-10-01T09:00")
    assert [o.outcome for o in dial(eng, robot)] == ["no_answer"]
    [job] = jobs(eng, ticket)
    assert (job.attempts, job.due_at, job.last_outcome) == (1, at("2025-10-01 09:30"),
                                                            "no_answer")
    clock.set("2025-10-01T09:29")
    assert dial(eng, robot) == []
    clock.set("2025-10-01T09:30")
    assert [o.outcome for o in dial(eng, robot)] == ["busy"]
    clock.set("2025-10-01T10:00")
    [last] = dial(eng, robot)
    assert last.outcome == "no_answer" and last.result == "无法联系"
    view = eng.service.show(ticket)
    assert view["state"] == "已归档" and view["callback"]["result"] == "无法联系"
    assert "未回访" in view["flags"]
    assert [a["attempt"] for a in view["call_attempts"]] == [1, 2, 3]
    assert len(robot.tasks) == 3 and jobs(eng) == []


@pytest.mark.parametrize("outcome", ["空号", "停机"])
def test_unreachable_number_is_flagged_without_retry(eng: Engine, clock: SimClock,
                                                     outcome: str) -> None:
    ticket = resolved(eng, "13800138004")
    robot = ScriptedRobot({"13800138004": [{"outcome": outcome}]})
    clock.set("2025-10-01T09:00")
    [result] = dial(eng, robot)
    assert result.result == "无法联系"
    view = eng.service.show(ticket)
    assert outcome in view["flags"] and view["callback"]["result"] == "无法联系"
    assert len(view["call_attempts"]) == 1
    clock.advance(hours=5)
    assert dial(eng, robot) == [] and len(robot.tasks) == 1


def test_unrecognised_answers_on_every_attempt_end_unreachable(eng: Engine,
                                                                clock: SimClock) -> None:
    ticket = resolved(eng, "13800138005")
    robot = ScriptedRobot({"13800138005": [{"outcome": "answered", "intent": "未识别"}]})
    for minute in (0, 30, 60):
        clock.set("2025-10-01T09:00")
        clock.advance(minutes=minute)
        [o] = dial(eng, robot)
        assert o.outcome == "answered"
    assert o.result == "无法联系" and "record_callback" in o.actions
    assert eng.service.show(ticket)["callback"]["result"] == "无法联系"
    assert len(robot.tasks) == 3


def test_handoff_records_the_transcript_and_stops_calling(eng: Engine, clock: SimClock) -> None:
    ticket = resolved(eng, "13800138006")
    robot = ScriptedRobot({"13800138006": [{"outcome": "answered", "intent": "转人工",
                                            "transcript": "转人工"}]})
    clock.set("2025-10-01T09:00")
    [o] = dial(eng, robot)
    assert o.handoff and o.result is None
    view = eng.service.show(ticket)
    assert view["state"] == "已办结" and view["callback"] is None
    assert view["handoffs"][0]["transcript"] == "转人工"
    assert "HumanHandoffRequested" in events(eng, ticket)
    assert jobs(eng) == []
    clock.advance(hours=2)
    assert dial(eng, robot) == []


def test_no_calls_outside_calling_hours(eng: Engine, clock: SimClock) -> None:
    clock.set("2025-09-30T20:30")
    ticket = resolved(eng, "13800138007")
    robot = ScriptedRobot({"13800138007": [{"outcome": "answered", "intent": "满意"}]})
    [job] = jobs(eng, ticket)
    assert job.due_at == at("2025-10-01 20:30")
    clock.set("2025-10-01T20:45")
    [o] = dial(eng, robot)
    assert o.result == "满意"
    # A job left over past 21:00 (engine down) waits for the morning.
    ticket2 = resolved(eng, "13800138008")
    clock.set("2025-10-02T21:30")
    assert dial(eng, ScriptedRobot({})) == []
    clock.set("2025-10-03T08:00")
    robot2 = ScriptedRobot({"13800138008": [{"outcome": "answered", "intent": "基本满意"}]})
    assert [o.result for o in dial(eng, robot2)] == ["基本满意"]
    assert eng.service.show(ticket2)["state"] == "已归档"


def test_exhausted_job_is_closed_without_dialling(eng: Engine, clock: SimClock) -> None:
    """Safety net: the robot crashed after recording 空号 but before 无法联系."""
    ticket = resolved(eng, "13800138009")
    clock.set("2025-10-01T09:00")
    eng.service.record_call(ticket, call_id="ext-1", purpose="回访", outcome="停机", attempt=1,
                            actor=Actor("robot", "telephony"))
    [job] = jobs(eng, ticket)
    assert job.exhausted and job.attempts == 1
    robot = ScriptedRobot({})
    [o] = dial(eng, robot)
    assert o.outcome == "exhausted" and o.result == "无法联系"
    assert robot.tasks == []
    assert eng.service.show(ticket)["callback"]["result"] == "无法联系"
    assert jobs(eng) == []


def test_external_attempts_count_and_manual_result_removes_the_job(
        eng: Engine, clock: SimClock) -> None:
    ticket = resolved(eng, "13800138010")
    clock.set("2025-10-01T09:00")
    eng.service.record_call(ticket, call_id="pbx-991", purpose="回访", outcome="busy",
                            attempt=1, actor=Actor("robot", "pbx"))
    [job] = jobs(eng, ticket)
    assert (job.attempts, job.due_at) == (1, at("2025-10-01 09:30"))
    eng.service.record_callback(ticket, result="满意", comment="人工回访", actor=AGENT)
    assert jobs(eng) == []


def test_leases_keep_a_job_from_being_dialled_twice(eng: Engine, clock: SimClock) -> None:
    resolved(eng, "13800138011")
    clock.set("2025-10-01T09:00")
    first = prepare_due(eng)
    assert len(first) == 1
    assert prepare_due(eng) == []


def test_reports_are_idempotent(eng: Engine, clock: SimClock) -> None:
    ticket = resolved(eng, "13800138012")
    clock.set("2025-10-01T09:00")
    [job] = jobs(eng, ticket)
    call = CallResult(call_id_for(job.job_id, 1), "13800138012", ticket, "callback", "回访",
                      outcome="answered", intent="不满意", transcript="不满意")
    assert record_call_result(eng, job, call, 1) == ["record_call", "record_callback"]
    assert record_call_result(eng, job, call, 1) == []  # the same reports again: nothing
    view = eng.service.show(ticket)
    assert view["reopen_count"] == 1 and len(view["call_attempts"]) == 1


def test_reminders_are_queued_and_dialled_once(eng: Engine, clock: SimClock) -> None:
    s = eng.service
    ticket = s.intake(channel="电话", category="咨询", urgency="一般", region="甬江区",
                      content="咨询政策", caller_name="王五", caller_phone="13800138013",
                      actor=AGENT)
    s.dispatch(ticket, dept=DEPT, assist=[], actor=AGENT)
    warning = datetime.fromisoformat(s.load(ticket).ladder["warning"])
    clock.now = warning
    tick(eng)
    reminders = jobs(eng, ticket)
    assert sorted(j.purpose for j in reminders) == ["临期提醒", "预计办结告知"]
    # The warning fires at 00:00: the calls wait for 08:00.
    opening = datetime.combine(warning.astimezone(SHANGHAI).date(), time(8), tzinfo=SHANGHAI)
    assert {j.due_at for j in reminders} == {opening}
    robot = ScriptedRobot({"057487000102": [{"outcome": "answered"}],
                           "13800138013": [{"outcome": "no_answer"}]})
    assert dial(eng, robot) == []
    clock.now = opening
    outcomes = dial(eng, robot)
    assert sorted(o.outcome for o in outcomes) == ["answered", "no_answer"]
    assert sorted(robot.numbers()) == ["057487000102", "13800138013"]
    by_purpose = {t.purpose: t for t in robot.tasks}
    assert by_purpose["临期提醒"].kind == "reminder"
    recorded = {e.purpose: e.script for e in s.events.get(order_id(ticket))
                if isinstance(e, WorkOrder.OutboundCallRequested)}
    assert {t.purpose: t.script for t in robot.tasks} == recorded  # said as recorded
    # The unit is asked to acknowledge in the recorded words; the citizen is not.
    assert ACK_REQUEST in recorded["临期提醒"] and ACK_REQUEST not in recorded["预计办结告知"]
    attempts = s.show(ticket)["call_attempts"]
    assert sorted(a["purpose"] for a in attempts) == ["临期提醒", "预计办结告知"]
    assert jobs(eng, ticket) == []  # dialled once, whatever the outcome
    clock.advance(hours=1)
    assert dial(eng, robot) == []


def test_rebuild_gives_the_same_queue(eng: Engine, clock: SimClock) -> None:
    a = resolved(eng, "13800138014")
    resolved(eng, "13800138015")
    clock.set("2025-10-01T09:00")
    eng.service.record_call(a, call_id="x", purpose="回访", outcome="no_answer", attempt=1,
                            actor=Actor("robot", "t"))
    before = jobs(eng)
    runner = eng.runners["callback_queue"]
    runner.rebuild()
    assert jobs(eng) == before
    with eng.db.transaction(immediate=False) as cur:
        assert cur.execute(f"SELECT COUNT(*) FROM {QUEUE}").fetchone()[0] == 2


def test_queue_follows_the_policy_file(tmp_path: Path, clock: SimClock) -> None:
    from domain.policies.deadlines import DEFAULT_POLICY_PATH, load_policy

    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    text = text.replace("retry_interval_minutes = 30", "retry_interval_minutes = 90")
    text = text.replace("days_after_completion = 1", "days_after_completion = 2")
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    engine = build_engine(str(tmp_path / "p.db"), clock=clock, policy_file=str(path))
    try:
        queue = engine.runners["callback_queue"].projection
        assert isinstance(queue, CallbackQueue)
        assert queue.settings == load_policy(path).callback
        ticket = resolved(engine, "13800138016")
        [job] = jobs(engine, ticket)
        assert job.due_at == at("2025-10-02 09:00")
        clock.set("2025-10-02T09:00")
        dial(engine, ScriptedRobot({"13800138016": [{"outcome": "busy"}]}))
        [job] = jobs(engine, ticket)
        assert job.due_at == at("2025-10-02 10:30")
    finally:
        engine.close()


class ClosableRobot(ScriptedRobot):
    async def call(self, task: CallTask, *, progress: Any = None) -> CallResult:
        await asyncio.sleep(0.05)  # a call takes a while: the tick must not wait for it
        return await super().call(task, progress=progress)

    async def close(self) -> None:
        pass


def test_serve_step_starts_calls_in_the_background(eng: Engine, clock: SimClock) -> None:
    from adapters.telephony.dialler import Dialler, dial_due

    tickets = [resolved(eng, f"1380013802{i}") for i in range(3)]
    robot = ClosableRobot({f"1380013802{i}": [{"outcome": "answered", "intent": "满意"}]
                           for i in range(3)})
    dialler = Dialler("http://127.0.0.1:9", concurrency=2, robot_factory=lambda: robot)  # type: ignore[arg-type,return-value]
    try:
        assert dial_due(eng, dialler) == []  # nothing due yet
        clock.set("2025-10-01T09:00")
        started = dial_due(eng, dialler)
        assert len(started) == 2  # at most `concurrency` calls at once
        assert dial_due(eng, dialler) == []  # no free slot, and the two are leased
        assert dialler.wait_idle(10)
        assert len(dial_due(eng, dialler)) == 1
        assert dialler.wait_idle(10)
        assert sorted(o.result for o in dialler.finished) == ["满意"] * 3
        assert {eng.service.show(t)["state"] for t in tickets} == {"已归档"}
    finally:
        dialler.close()
