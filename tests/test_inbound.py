"""The inbound robot's dialogue on a real engine, turn by turn from transcripts: routing
first (老年一键通, VIP), policy answers cited from the knowledge base with follow-ups, progress
queries only for the registering number, drafts handed to an agent or registered, wrong
lines transferred, hand-offs when asked or not understood — and the call record holding
exactly what was heard and said."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.bootstrap import Engine
from adapters.inbound.desk import InboundDesk
from adapters.kb import kb_desk
from domain.errors import InvalidInput
from domain.inbound.routing import InboundRules
from domain.values import Actor
from tests.test_kb import ADMIN, SAMPLE

CALLER = "13812345678"


@pytest.fixture
def desk(sqlite_engine: Engine) -> InboundDesk:
    kb_desk(sqlite_engine).import_file(SAMPLE, actor=ADMIN)
    return InboundDesk(sqlite_engine)


def test_a_policy_question_is_answered_cited_with_follow_ups(desk: InboundDesk) -> None:
    opened = desk.start("c1", caller=CALLER, line="12345")
    assert opened.step.kind == "greet" and opened.listen
    first = desk.turn("c1", "你好，我长期住在外地，去外地看病医保要先备案吗？")
    assert first.step.kind == "answer" and first.citation == "KB-YB-001 v1"
    assert "浙里办" in first.said[0] and "门诊费用报销比例" in first.said[0]  # the follow-up
    follow = desk.turn("c1", "那门诊能报多少")
    assert follow.citation == "KB-YB-002 v1"
    done = desk.turn("c1", "没有了，谢谢")
    assert done.step.kind == "goodbye" and done.ended
    record = desk.record("c1")
    assert record.ended and record.outcome == "已结束"
    heard = [t for t in record.turns if "heard" in t]
    assert [t["intent"] for t in heard] == ["政策咨询", "政策咨询", "结束"]
    assert heard[0]["citation"] == "KB-YB-001 v1"
    # What the caller heard is what the record says was said, sentence for sentence.
    assert record.said() == [*opened.said, *first.said, *follow.said, *done.said]
    assert record.caller == "138****5678"
    with pytest.raises(InvalidInput, match="no call c1"):
        desk.turn("c1", "还有一个问题")


@pytest.mark.parametrize(("caller", "line", "reason", "priority"), [
    ("13700001111", "96345", "老年一键通", 0),        # the 老年一键通 line itself
    ("13905740001", "12345", "老年一键通", 0),        # a registered elderly caller
    ("13905740009", "12345", "重点来电人", 1),
])
def test_elderly_and_vip_callers_reach_a_person_before_the_robot_speaks(
        desk: InboundDesk, caller: str, line: str, reason: str, priority: int) -> None:
    reply = desk.start("c2", caller=caller, line=line)
    assert reply.step.kind == "handoff" and reply.ended and not reply.listen
    assert reply.said == ["正在为您转接人工服务，请稍候。"]
    record = desk.record("c2")
    assert record.outcome == "转人工" and not [t for t in record.turns if "heard" in t]
    last = list(desk.engine.service.events.get(record.id))[-1]
    assert (last.reason, last.priority) == (reason, priority)


def test_asked_for_a_person_or_not_understood_twice_hands_off(desk: InboundDesk) -> None:
    desk.start("c3", caller=CALLER, line="12345")
    assert desk.turn("c3", "叫个人来听电话").step.kind == "handoff"
    desk.start("c4", caller=CALLER, line="12345")
    again = desk.turn("c4", "嗯嗯那个")
    assert again.step.kind == "reask" and again.listen
    out = desk.turn("c4", "啊哦")
    assert out.step.kind == "handoff" and "2 次未能识别" in out.step.reason
    desk.start("c5", caller=CALLER, line="12345")
    foreign = desk.turn("c5", "some words", mandarin=False)
    assert foreign.step.kind == "handoff" and "非普通话" in foreign.step.reason


def test_the_same_question_again_after_its_answer_reaches_a_person(desk: InboundDesk) -> None:
    desk.start("r1", caller=CALLER, line="12345")
    first = desk.turn("r1", "身份证丢了怎么补办")
    assert first.step.kind == "answer" and first.citation == "KB-HJ-001 v1"
    again = desk.turn("r1", "我是问身份证丢了到底怎么补")
    assert again.step.kind == "handoff" and again.ended
    assert "再次询问同一问题" in again.step.reason
    assert desk.record("r1").outcome == "转人工"
    desk.start("r2", caller=CALLER, line="12345")  # another question after an answer
    assert desk.turn("r2", "身份证丢了怎么补办").citation == "KB-HJ-001 v1"
    assert desk.turn("r2", "门诊看病能报多少").citation == "KB-YB-002 v1"


@pytest.mark.parametrize(("said", "twice"), [
    ("楼上每天半夜拖椅子，吵得睡不着，你们能管管吗", False),  # a complaint: drafted at once
    ("明天宁波会不会下雨", True),                            # nothing the robot knows
    ("喂喂，听得到吗", True),
])
def test_what_the_base_cannot_answer_reaches_a_person_within_two_turns(
        desk: InboundDesk, said: str, twice: bool) -> None:
    desk.start("n1", caller=CALLER, line="12345")
    reply = desk.turn("n1", said)
    if twice:
        assert reply.step.kind == "reask" and not reply.ended
        reply = desk.turn("n1", said)
    assert reply.step.kind == "handoff" and reply.ended
    assert not [t for t in desk.record("n1").turns if t.get("citation")]  # nothing answered


def test_progress_is_read_only_to_the_registering_number(desk: InboundDesk) -> None:
    s = desk.engine.service
    no = s.intake(channel="电话", category="求助", urgency="一般", region="甬江区",
                  content="路灯不亮", caller_name="张三", caller_phone=CALLER,
                  actor=Actor("agent", "a1"))
    desk.start("c6", caller=CALLER, line="12345")
    mine = desk.turn("c6", f"查询工单{no}")
    assert mine.step.kind == "progress" and "已受理" in mine.said[0]
    assert "".join(ch for ch in mine.said[0] if ch in "零幺二三四五六七八九") != ""
    desk.start("c7", caller="13999998888", line="12345")
    other = desk.turn("c7", f"查询工单{no}")
    assert "不是用您现在的号码登记的" in other.said[0] and not other.ended
    unknown = desk.turn("c7", "查询工单209901010001")
    assert unknown.step.kind == "handoff" and unknown.ended


def test_a_new_request_becomes_a_draft_or_is_registered(desk: InboundDesk) -> None:
    desk.start("c8", caller=CALLER, line="12345")
    complaint = desk.turn("c8", "我要投诉东湖那边小区门口的垃圾好几天没人清理，电话13812345678")
    assert complaint.step.kind == "handoff" and complaint.step.draft is not None
    assert complaint.step.draft.category == "投诉"
    assert complaint.step.draft.region == "甬江区东湖街道"
    record = desk.record("c8")
    heard = next(t for t in record.turns if "heard" in t)
    assert "13812345678" not in heard["heard"] and "138****5678" in heard["heard"]
    desk.start("c9", caller=CALLER, line="12345")
    idea = desk.turn("c9", "我有个建议，西塘街道的公园晚上灯能不能多开一会儿")
    assert idea.step.kind == "register" and idea.ticket_no
    order = desk.engine.service.show(idea.ticket_no)
    assert (order["category"], order["channel"], order["region"]) == ("建议", "电话",
                                                                       "甬江区西塘街道")
    assert desk.record("c9").outcome == "已登记"
    # Said again right after: the same order's number again, not a second order.
    again = desk.turn("c9", "就是我刚才说的那个建议，西塘街道公园晚上的灯多开一会儿")
    assert again.step.kind == "registered_again" and again.ticket_no == idea.ticket_no
    assert "登记过了" in again.said[0] and not again.ended
    registered = [e for e in desk.engine.service.events.get(desk.record("c9").id)
                  if type(e).__name__ == "Registered"]
    assert len(registered) == 1


def test_a_question_for_another_line_is_transferred_without_redial(desk: InboundDesk) -> None:
    desk.start("c10", caller=CALLER, line="12333")
    moved = desk.turn("c10", "没买房的话租房子能不能取公积金交房租")
    assert moved.step.kind == "transfer" and moved.step.line is not None
    assert moved.step.line.number == "12329" and "无需挂机重拨" in moved.said[0]
    assert desk.record("c10").outcome == "转线路"


def test_bad_rules_and_unknown_lines_are_refused(desk: InboundDesk, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown inbound line"):
        desk.start("c11", caller=CALLER, line="110")
    bad = tmp_path / "inbound.toml"
    bad.write_text("max_unrecognised = 9\n[[line]]\nnumber = \"12345\"\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="max_unrecognised"):
        InboundRules.load(bad)
    bad.write_text("[[line]\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        InboundRules.load(bad)


def test_the_full_text_goes_by_sms_after_an_answer(sqlite_engine: Engine,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from adapters.sms import LoggingSms

    kb_desk(sqlite_engine).import_file(SAMPLE, actor=ADMIN)
    sent: list[tuple[str, str]] = []

    class Outbox(LoggingSms):  # the logging adapter, remembering what it was asked to send
        def send(self, phone: str, text: str) -> str:
            sent.append((phone, text))
            return super().send(phone, text)

    desk = InboundDesk(sqlite_engine, sms=Outbox())
    desk.start("s1", caller=CALLER, line="12345")
    assert desk.turn("s1", "发短信").step.kind == "reask"  # nothing answered yet
    desk.turn("s1", "身份证丢了怎么补办")
    with caplog.at_level(logging.INFO, logger="rexian.sms"):
        reply = desk.turn("s1", "麻烦发个短信给我")
    assert reply.step.kind == "sms" and reply.citation == "KB-HJ-001 v1"
    assert "发送到您的手机" in reply.said[0] and reply.listen
    [(phone, text)] = sent
    assert phone == CALLER and "KB-HJ-001 v1" in text and "户口簿" in text
    assert CALLER not in caplog.text and "138****5678" in caplog.text
    record = desk.record("s1")
    assert any(t.get("sms") == "KB-HJ-001 v1" for t in record.turns)


def test_history_of_a_call(desk: InboundDesk) -> None:
    desk.start("h1", caller=CALLER, line="12345")
    desk.turn("h1", "转人工")
    history = desk.history("h1")
    assert history["ticket_no"] == "call:h1" and history["state"]["outcome"] == "转人工"
    assert [e["type"] for e in history["events"]] == ["Started", "Said", "Heard", "Said",
                                                      "HandedOff"]
    with pytest.raises(InvalidInput, match="no inbound call"):
        desk.history("nope")
