"""Survey campaign calls over real loopback WebRTC (aiortc, Opus, webrtcvad, whisper.cpp with
the base model) against simulated citizens answering with committed recordings
(tests/fixtures/campaign_answers, rendered by tools/make_campaign_answer_fixtures.py): the
questionnaire's branches followed, a doubtful reply asked again, each answer recorded on the
contact as Contact.Answered, a [[work_orders]] rule opening a work order (channel 外呼), and
what the citizen heard equal to what the record says was said."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.campaigns import desk
from adapters.telephony.admission import Admission
from adapters.telephony.asr import AsrPool
from adapters.telephony.campaign_call import CampaignCallResult
from adapters.telephony.campaign_dialler import campaign_job
from adapters.telephony.robot import CallbackRobot
from domain.campaign import states
from domain.service import SHANGHAI
from domain.values import Actor
from tests.conftest import SimClock
from tests.support.whisper import whisper_model
from tools.sim_citizen import CallRecord, Citizen, SimulatedGateway

ANSWERS = Path(__file__).resolve().parent / "fixtures" / "campaign_answers"
SAMPLE = Path(__file__).resolve().parent / "fixtures" / "campaign" / "垃圾分类调查.toml"
CENTRE = Actor("dispatcher", "centre")


def _says(*names: str) -> Citizen:
    return Citizen(answers=[str(ANSWERS / f"{n}.wav") for n in names])


# number -> (the replies, the answers the contact must record)
CITIZENS = {
    "13800000001": (_says("dissatisfied", "late_collection", "no"),
                    {"q1": "不满意", "q2": "清运不及时", "q3": "否"}),
    "13800000002": (_says("satisfied", "yes"), {"q1": "满意", "q3": "是"}),
    "13800000003": (_says("no_answer", "satisfied", "yes"), {"q1": "满意", "q3": "是"}),
}


@dataclass
class Run:
    engine: Engine
    contacts: dict[str, str]  # number -> contact id
    results: dict[str, CampaignCallResult]
    records: dict[str, CallRecord]


async def _call(engine: Engine, model: Path, citizens: dict[str, Citizen],
                numbers: dict[str, list[str]]) -> Run:
    """Dial every due contact of the running campaigns (`numbers`: campaign -> its file's
    phones in order) against the simulated `citizens`; each call to its end."""
    campaigns = desk(engine)
    gateway = SimulatedGateway(citizens)
    url = await gateway.start()
    asr = AsrPool(model_path=model)
    robot = CallbackRobot(url, asr)
    placed: list[tuple[str, str]] = []
    try:
        await asr.warm_up(("announcement", "answer", "survey"))
        campaigns.tick(lambda contact, call: placed.append((contact, call)))
        done = await asyncio.gather(*(campaign_job(campaigns, robot, Admission(asr=None),
                                                   contact, call) for contact, call in placed))
    finally:
        await robot.close()
        await gateway.stop()
        asr.close()
    by_contact = {}
    for contact_ref, _ in placed:
        contact = campaigns.service.contact(contact_ref)
        by_contact[contact_ref] = numbers[contact.campaign_ref][contact.number - 1]
    results = {by_contact[c]: r for (c, _), r in zip(placed, done, strict=True) if r}
    records = {r.number: r for r in gateway.records.values()}
    return Run(engine, {n: c for c, n in by_contact.items()}, results, records)


def _start(engine: Engine, folder: Path, header: str, rows: list[str], **fields: Any) -> str:
    campaigns = desk(engine)
    ref: str = campaigns.execute("create_campaign", actor=CENTRE, window=["00:00-24:00"],
                                 allow_rest_days=True, lines=5, per_minute=100,
                                 **fields)["campaign_id"]
    contacts = folder / f"{ref}.csv"
    contacts.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    campaigns.execute("import_contacts", ref, actor=CENTRE, file=contacts)
    campaigns.execute("start_campaign", ref, actor=CENTRE)
    return ref


async def _run(engine: Engine, model: Path, folder: Path) -> Run:
    ref = _start(engine, folder, "姓名,电话,小区",
                 [f"市民{i},{n},东湖花园" for i, n in enumerate(CITIZENS, 1)],
                 kind="survey", name="垃圾分类调研", script=SAMPLE)
    return await _call(engine, model, {n: c for n, (c, _) in CITIZENS.items()},
                       {ref: list(CITIZENS)})


def _module_run(tmp_path_factory: pytest.TempPathFactory, name: str,
                runner: Callable[[Engine, Path, Path], Coroutine[Any, Any, Run]]) -> Iterator[Run]:
    clock = SimClock(datetime(2025, 10, 9, 10, 0, tzinfo=SHANGHAI))
    folder = tmp_path_factory.mktemp(name)
    engine = build_engine(str(folder / "rexian.db"), clock=clock)
    try:
        yield asyncio.run(runner(engine, whisper_model(), folder))
    finally:
        engine.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    yield from _module_run(tmp_path_factory, "survey_calls", _run)


@pytest.mark.parametrize("number", list(CITIZENS))
def test_answers_are_recorded_along_the_branches(run: Run, number: str) -> None:
    contact = desk(run.engine).service.contact(run.contacts[number])
    result = run.results[number]
    assert contact.state == states.DONE, result.turns
    assert contact.outcomes[-1]["outcome"] == states.CONNECTED
    assert contact.answers == CITIZENS[number][1], result.turns
    assert result.completed


@pytest.mark.parametrize("number", list(CITIZENS))
def test_what_was_said_is_what_the_record_says(run: Run, number: str) -> None:
    contact = desk(run.engine).service.contact(run.contacts[number])
    result = run.results[number]
    assert [s["text"] for s in contact.said] == result.said
    record = run.records[number]
    # Each of the robot's asks was heard by the citizen, who answered every one.
    assert record.answers_played == len(CITIZENS[number][0].answers)
    assert result.said[-1] == "感谢您的参与，再见。"


def test_a_doubtful_reply_is_asked_again_more_simply(run: Run) -> None:
    contact = desk(run.engine).service.contact(run.contacts["13800000003"])
    kinds = [s["kind"] for s in contact.said]
    assert kinds == ["intro", "question", "reask", "question", "outro"]


def test_the_work_order_rule_opens_an_order(run: Run) -> None:
    campaigns = desk(run.engine)
    contact = campaigns.service.contact(run.contacts["13800000001"])
    [ticket] = contact.work_orders
    order = run.engine.service.show(ticket)
    assert (order["channel"], order["category"], order["region"]) == ("外呼", "投诉", "东湖花园")
    assert "清运不及时" in order["content"] and contact.campaign_ref in order["content"]
    others = [campaigns.service.contact(run.contacts[n]).work_orders for n in CITIZENS
              if n != "13800000001"]
    assert others == [[], []]


# ----- notification and broadcast -------------------------------------------------------------
NOTICE = "{姓名}您好，您的养老金资格认证将于{截止日期}到期。"
NOTIFIED = {
    "13900000001": _says("heard"),  # heard at once
    "13900000002": _says("repeat", "heard"),  # the message once more, then heard
}
BROADCAST = {"13700000001": _says("agent")}  # asks for a person


SENT: list[tuple[str, str]] = []  # the text messages handed to the SMS port


class Sms:
    def send(self, phone: str, text: str) -> str:
        SENT.append((phone, text))
        return f"sms-{len(SENT)}"


async def _run_kinds(engine: Engine, model: Path, folder: Path) -> Run:
    desk(engine).sms = Sms()
    made = {}
    for kind, message, citizens, extra in (
            ("notification", NOTICE, NOTIFIED, {"sms": "【12345】认证入口：https://example.gov.cn"}),
            ("broadcast", "灵活就业人员社保补贴下月起施行。", BROADCAST, {})):
        ref = _start(engine, folder, "姓名,电话,截止日期",
                     [f"张{i},{n},2026年01月31日" for i, n in enumerate(citizens, 1)],
                     kind=kind, name=f"{kind}任务", message=message, **extra)
        made[ref] = list(citizens)
    return await _call(engine, model, {**NOTIFIED, **BROADCAST}, made)


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    yield from _module_run(tmp_path_factory, "kind_calls", _run_kinds)


@pytest.mark.parametrize("number", list(NOTIFIED))
def test_a_notification_is_heard_and_its_sms_sent(kinds: Run, number: str) -> None:
    service = desk(kinds.engine).service
    contact = service.contact(kinds.contacts[number])
    result = kinds.results[number]
    assert contact.state == states.DONE and contact.heard is True, result.turns
    name = f"张{list(NOTIFIED).index(number) + 1}"
    rendered = f"{name}您好，您的养老金资格认证将于2026年01月31日到期。"
    assert result.said.count(rendered) == len(NOTIFIED[number].answers)  # repeated once
    # The record holds the template; the view renders it (the name masked).
    assert [s["text"] for s in contact.said][0] == NOTICE
    view = service.contact_view(contact)
    assert view["said"][0]["text"] == "张*您好，您的养老金资格认证将于2026年01月31日到期。"
    assert [s["text"] for s in contact.said][1:] == result.said[1:] or len(contact.said) > 2
    assert (number, "【12345】认证入口：https://example.gov.cn") in SENT
    [sms] = contact.sms
    assert sms["message"].startswith("sms-") and number not in sms["phone"]


def test_a_broadcast_hands_off_with_the_context(kinds: Run) -> None:
    contact = desk(kinds.engine).service.contact(kinds.contacts["13700000001"])
    result = kinds.results["13700000001"]
    assert contact.handoff is not None, result.turns
    assert contact.handoff["reason"] == "市民要求转人工"
    assert contact.handoff["context"]["campaign_id"] == contact.campaign_ref
    assert contact.handoff["context"]["message"] == "灵活就业人员社保补贴下月起施行。"
    assert result.said[-1] == "好的，正在为您转接人工服务，请稍候。"
    assert contact.state == states.DONE and not contact.sms
