"""What is heard is what is audited: reminder calls say their recorded script word for word.

The scripts come from the real domain (the deadline ladder's OutboundCallRequested events,
composed in domain/policies/escalation.py), the calls go over real WebRTC on loopback to the
simulated gateway, and the check is on the manifest: the texts of the clips played, joined,
are the recorded script, greeting, acknowledgement request and goodbye included: the robot
adds nothing. No ASR runs (nobody answers), so no whisper model is needed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.telephony.asr import AsrPool
from adapters.telephony.dialler import JobOutcome, dial_due_async
from adapters.telephony.media import EndpointSettings
from adapters.telephony.prompts import PromptLibrary
from adapters.telephony.robot import CallbackRobot, CallTask, RobotSettings
from adapters.telephony.script import UnvoiceableScript, asks_for_ack, turns
from adapters.ticker import tick
from domain.departments import DepartmentRegistry
from domain.policies.escalation import ACK_REQUEST, CLOSING, OPENING, compose_step
from domain.service import SHANGHAI
from domain.values import Actor
from tests.conftest import SimClock
from tests.support.prompts import TEXTS, spelled
from tools.sim_citizen import Citizen, SimulatedGateway

AGENT = Actor("agent", "a1")
CENTRE = Actor("dispatcher", "centre")
def no_asr(kind: str) -> Any:
    raise AssertionError("nobody answers: no ASR")


# ----- the real ladder, dialled --------------------------------------------------------------
def _order(engine: Engine, clock: SimClock, *, urgency: str, dept: str, at: str) -> str:
    clock.set(at)
    s = engine.service
    ticket = s.intake(channel="电话", category="求助", urgency=urgency, region="甬江区",
                      content="水管爆裂", caller_name="钱七", caller_phone="13800000007",
                      actor=AGENT)
    s.dispatch(ticket, dept=dept, assist=[], actor=CENTRE)
    return ticket


def _scripts(engine: Engine, ticket: str) -> dict[str, str]:
    """call_id -> the script recorded in its OutboundCallRequested event."""
    return {e.call_id: e.script for e in engine.service.events.get(
        engine.service.load(ticket).id) if type(e).__name__ == "OutboundCallRequested"}


async def _dial_ladder(engine: Engine, clock: SimClock, day: str) -> list[JobOutcome]:
    gateway = SimulatedGateway(default=Citizen(answers=[]))  # everyone picks up and listens
    url = await gateway.start()
    robot = CallbackRobot(url, AsrPool(no_asr, workers=1), settings=RobotSettings(
        ack=EndpointSettings(no_speech_s=1.0)))
    try:
        clock.set(f"{day}T09:00")  # both orders' warnings: 临期提醒 + 预计办结告知
        tick(engine)
        outcomes = await dial_due_async(engine, robot)
        clock.set(f"{day}T10:30")  # the urgent order's level 1: 督办提醒 naming its unit
        tick(engine)
        return outcomes + await dial_due_async(engine, robot)
    finally:
        await robot.close()
        robot.asr.close()
        await gateway.stop()


@pytest.fixture(scope="module")
def ladder(tmp_path_factory: pytest.TempPathFactory) -> Any:
    clock = SimClock(datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI))
    engine = build_engine(str(tmp_path_factory.mktemp("scripts") / "r.db"), clock=clock)
    try:
        normal = _order(engine, clock, urgency="一般", dept="区水务局", at="2025-09-30T10:00")
        # The normal order's warning day (00:00 on its due day, whatever the calendar says);
        # the urgent order is due at 12:20 that day: warned at 08:20, report by 10:20.
        warned = datetime.fromisoformat(str(engine.service.load(normal).ladder["warning"]))
        day = warned.astimezone(SHANGHAI).date()
        urgent = _order(engine, clock, urgency="紧急", dept="区城管局",
                        at=f"{day - timedelta(days=1)}T12:20")
        outcomes = asyncio.run(_dial_ladder(engine, clock, day.isoformat()))
        yield {"normal": normal, "urgent": urgent}, outcomes, {
            **_scripts(engine, normal), **_scripts(engine, urgent)}
    finally:
        engine.close()


@pytest.mark.parametrize("order", ["normal", "urgent"])
def test_reminders_play_exactly_the_recorded_script(ladder: Any, order: str) -> None:
    tickets, outcomes, scripts = ladder
    calls = [(o.job_id, o.call) for o in outcomes
             if o.ticket_no == tickets[order] and o.call is not None]
    purposes = {call.purpose for _, call in calls}
    assert purposes == ({"临期提醒", "预计办结告知", "督办提醒"} if order == "urgent"
                        else {"临期提醒", "预计办结告知"})
    for job_id, call in calls:
        assert call.outcome == "answered" and call.error is None
        script = scripts[job_id]
        assert spelled(call.played) == script, call.purpose  # every word heard is recorded
        assert script.startswith(OPENING) and script.endswith(CLOSING)
        if call.purpose in ("临期提醒", "督办提醒"):  # asked to act: the request is recorded
            assert script.endswith(ACK_REQUEST + CLOSING)
            [listened] = call.turns  # ...and the robot listened right after it
            assert spelled(listened.prompt).endswith(ACK_REQUEST) and listened.heard_s is None
            assert call.acknowledged is False and call.played[-1] == "bye"
        else:
            assert ACK_REQUEST not in script and call.turns == [] and call.acknowledged is None


def test_the_urgent_unit_hears_its_own_report_by_time(ladder: Any) -> None:
    tickets, outcomes, scripts = ladder
    unit = next(o.call for o in outcomes if o.ticket_no == tickets["urgent"] and o.call
                and o.call.purpose == "临期提醒")
    said = spelled(unit.played)
    assert "请于今日10:20前反馈处理计划。" in said  # two hours after the 08:20 warning
    assert "18:00" not in said and "18点" not in said
    normal = next(o.call for o in outcomes if o.ticket_no == tickets["normal"] and o.call
                  and o.call.purpose == "临期提醒")
    assert "请于今日18:00前反馈处理计划。" in spelled(normal.played)


# ----- every script the ladder can compose ---------------------------------------------------
def test_every_ladder_script_for_every_department_can_be_voiced() -> None:
    library = PromptLibrary.load()
    registry = DepartmentRegistry.load()
    due = datetime(2025, 10, 10, 12, 20, tzinfo=SHANGHAI)
    report_by = [None, due - timedelta(hours=2), due + timedelta(days=1, minutes=5)]
    for dept in registry.all():
        for step, by in [("warning", b) for b in report_by] + [("level1", None)]:
            content = compose_step(ticket_no="2025101000001", step=step, clock_no=1,
                                   lead=dept.name, citizen_id="c1", due_at=due,
                                   departments=registry, supervision_count=0, report_by=by)
            for call in content["calls"]:
                script = call["script"]
                utterance = library.script(script)
                assert spelled(utterance.clips) == utterance.text == script
                said = [library.script(turn) for turn in turns(script)]
                assert "".join(spelled(u.clips) for u in said) == script
                assert [asks_for_ack(u.text) for u in said] == (
                    [True, False] if call["purpose"] != "预计办结告知" else [False])


def test_the_report_by_time_is_read_as_a_time() -> None:
    library = PromptLibrary.load()
    said = library.script("您好，这里是12345热线。工单1将于2025年10月01日10:20到期，"
                          "请于今日08:05前反馈处理计划。")
    start = said.clips.index("today")
    assert said.clips[start:start + 3] == ["today", "hour_08", "minute_05"]
    assert said.clips[said.clips.index("will_be_due") + 1:][:9] == [
        "digit_2", "digit_0", "digit_2", "digit_5", "year_mark", "month_10", "day_01",
        "hour_10", "minute_20"]
    year_2011 = library.script("2011年01月01日00:00")
    assert year_2011.clips[:4] == ["digit_2", "digit_0", "digit_1_plain", "digit_1_plain"]
    assert library.script("工单101").clips == ["ticket", "digit_1", "digit_0", "digit_1"]


@pytest.mark.parametrize("script", [
    "",
    "您好，这里是12345热线。工单1将于今日18点前反馈处理计划。",  # 18点: no clip says it
    "您好，这里是12345热线。区未知局承办的工单1将于2025年10月01日10:20到期，",  # unknown unit
    "工单1将于2025年13月01日10:20到期，请于",  # no 13th month
    "请于今日24:00前反馈处理计划。",  # no hour 24
])
def test_a_script_the_clips_cannot_say_is_an_error(script: str) -> None:
    with pytest.raises(UnvoiceableScript):
        PromptLibrary.load().script(script)


def test_an_unvoiceable_reminder_rings_nobody() -> None:
    """The error comes before the dial: the gateway here does not even exist."""
    robot = CallbackRobot("http://127.0.0.1:9", AsrPool(no_asr, workers=1))

    async def body() -> None:
        try:
            for script in (None, "工单1将于今日18点前反馈处理计划。"):
                with pytest.raises(UnvoiceableScript):
                    await robot.call(CallTask("r-try1", "1", "1", kind="reminder",
                                              purpose="临期提醒", script=script))
        finally:
            await robot.close()
            robot.asr.close()

    asyncio.run(body())


def test_turns_cut_after_each_acknowledgement_request_and_join_to_the_script() -> None:
    asked = f"{OPENING}工单1将于今日18:00前反馈处理计划。{ACK_REQUEST}{CLOSING}"
    assert turns(asked) == [f"{OPENING}工单1将于今日18:00前反馈处理计划。{ACK_REQUEST}",
                            CLOSING]
    assert turns(f"{OPENING}{CLOSING}") == [f"{OPENING}{CLOSING}"]
    assert turns(f"工单1{ACK_REQUEST}") == [f"工单1{ACK_REQUEST}"]
    for script in (asked, f"{OPENING}{CLOSING}", f"{ACK_REQUEST}{ACK_REQUEST}x", "工单1"):
        assert "".join(turns(script)) == script


def test_a_script_recorded_before_the_request_and_goodbye_is_said_as_recorded() -> None:
    """An OutboundCallRequested stored before the request and the closing were composed into
    the script: the robot says that script alone, asks nothing and adds no goodbye."""
    legacy = "您好，这里是12345热线。工单2025093000001将于2025年10月01日10:20到期，请于今日08:20前反馈处理计划。"

    async def body() -> None:
        gateway = SimulatedGateway(default=Citizen(answers=[]))
        url = await gateway.start()
        robot = CallbackRobot(url, AsrPool(no_asr, workers=1))
        try:
            call = await robot.call(CallTask("legacy-try1", "057487000102", "2025093000001",
                                             kind="reminder", purpose="临期提醒", script=legacy))
        finally:
            await robot.close()
            robot.asr.close()
            await gateway.stop()
        assert call.outcome == "answered" and call.error is None
        assert spelled(call.played) == legacy
        assert call.turns == [] and call.acknowledged is None

    asyncio.run(body())


def test_scripts_are_spelled_from_the_manifest_alone() -> None:
    """Every clip's manifest text is what the library says it says (no hidden text)."""
    library = PromptLibrary.load()
    assert library.texts == TEXTS
