"""Campaign kinds at the text level (issue 10 item 2): the survey, notification and broadcast
dialogues (domain/campaign/dialogue.py), message templates (domain/campaign/template.py),
the closed-set reply classifier (adapters/asr/closed_set.py, on transcripts and audio scores
as whisper gives them), and what a call's record becomes on the contact: Said, Answered,
Confirmed, HandedOff events, a work order (channel 外呼) opened by a [[work_orders]] rule,
all in `rexian history`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from adapters.asr.closed_set import classify_closed, sound_alike
from adapters.asr.whisper import Transcription
from adapters.bootstrap import Engine, build_engine
from adapters.campaigns import desk
from domain.campaign import states
from domain.campaign.dialogue import (
    CONFIRM_ASK,
    HANDOFF,
    HEARD,
    REPEAT,
    UNRECOGNISED,
    Answered,
    BroadcastDialogue,
    Confirmed,
    HandOff,
    Heard,
    NotificationDialogue,
    Said,
    SurveyDialogue,
)
from domain.campaign.survey import parse_survey
from domain.campaign.template import missing_columns, render, variables
from domain.errors import InvalidInput
from domain.service import SHANGHAI
from domain.values import Actor
from tests.conftest import SimClock

SAMPLE = Path(__file__).parent / "fixtures" / "campaign" / "垃圾分类调查.toml"
SURVEY = parse_survey(SAMPLE.read_text(encoding="utf-8"), SAMPLE.name)
CENTRE = Actor("dispatcher", "centre")


def _run(dialogue: SurveyDialogue | NotificationDialogue | BroadcastDialogue,
         replies: list[Heard]) -> list[str | None]:
    """Play the replies; what each ask listened for, in order (None: the call ended)."""
    ask = dialogue.open()
    asked = [ask.listen]
    for reply in replies:
        assert not ask.ends
        ask = dialogue.hear(reply)
        asked.append(ask.listen)
    return asked


# ----- survey ------------------------------------------------------------------------------
def test_survey_follows_the_branches_and_ends_with_the_outro() -> None:
    dialogue = SurveyDialogue(survey=SURVEY)
    asked = _run(dialogue, [Heard("不满意", "不满意"), Heard("清运不及时", "清运不及时"),
                            Heard("否", "不是")])
    assert asked == ["q1", "q2", "q3", None]
    assert dialogue.answers() == {"q1": "不满意", "q2": "清运不及时", "q3": "否"}
    assert dialogue.done
    said = dialogue.said()
    assert said[0] == SURVEY["intro"] and said[-1] == SURVEY["outro"]
    assert said[1] == "您对小区垃圾分类工作满意吗？请回答满意、基本满意或不满意。"


def test_a_satisfied_citizen_skips_the_follow_up_and_yes_ends_the_call() -> None:
    dialogue = SurveyDialogue(survey=SURVEY)
    assert _run(dialogue, [Heard("满意", "满意"), Heard("是", "是的")]) == ["q1", "q3", None]
    assert dialogue.answers() == {"q1": "满意", "q3": "是"}


def test_a_doubtful_answer_is_asked_again_once_more_simply_then_unrecognised() -> None:
    dialogue = SurveyDialogue(survey=SURVEY)
    asked = _run(dialogue, [Heard(None, "我想想"), Heard(None, ""),
                            Heard("设施不足", "设施不足"), Heard("是", "是")])
    # q1 twice (the second ask only names the answers), then on to the next question in
    # order: 未识别 has no branch, and is never a guess.
    assert asked == ["q1", "q1", "q2", "q3", None]
    reask = [e for e in dialogue.entries if isinstance(e, Said) and e.kind == "reask"]
    assert [e.text for e in reask] == ["抱歉，没有听清。请直接说：满意、基本满意或不满意。"]
    assert dialogue.answers() == {"q1": UNRECOGNISED, "q2": "设施不足", "q3": "是"}
    first = next(e for e in dialogue.entries if isinstance(e, Answered))
    assert first.transcript == "我想想"


def test_an_answer_after_the_second_ask_counts() -> None:
    dialogue = SurveyDialogue(survey=SURVEY)
    _run(dialogue, [Heard(None, "嗯"), Heard("基本满意", "基本满意"), Heard("否", "不是")])
    assert dialogue.answers() == {"q1": "基本满意", "q3": "否"}


def test_a_hang_up_leaves_the_answers_given_and_no_end() -> None:
    dialogue = SurveyDialogue(survey=SURVEY)
    _run(dialogue, [Heard("不满意", "不满意")])
    assert dialogue.answers() == {"q1": "不满意"} and not dialogue.done


# ----- notification and broadcast ----------------------------------------------------------
MESSAGE = "{姓名}您好，您的养老金资格认证将于{截止日期}到期。"


def test_notification_heard_once() -> None:
    dialogue = NotificationDialogue(message=MESSAGE)
    assert _run(dialogue, [Heard(HEARD, "听清楚了")]) == ["confirm", None]
    confirmed = [e for e in dialogue.entries if isinstance(e, Confirmed)]
    assert confirmed == [Confirmed(True, HEARD, "听清楚了", 0)]
    message = dialogue.entries[0]
    assert isinstance(message, Said) and message.template and message.text == MESSAGE
    assert dialogue.said()[1] == CONFIRM_ASK


def test_notification_repeats_once_then_stops() -> None:
    dialogue = NotificationDialogue(message=MESSAGE)
    assert _run(dialogue, [Heard(REPEAT, "再听一遍"), Heard(HEARD, "听清了")]) == [
        "confirm", "confirm", None]
    assert dialogue.said().count(MESSAGE) == 2
    assert [e for e in dialogue.entries if isinstance(e, Confirmed)][0].heard
    again = NotificationDialogue(message=MESSAGE)
    _run(again, [Heard(REPEAT, "再听一遍"), Heard(REPEAT, "再说一遍")])
    assert again.said().count(MESSAGE) == 2  # once more, not twice
    assert [e for e in again.entries if isinstance(e, Confirmed)] == [
        Confirmed(False, REPEAT, "再听一遍 / 再说一遍", 1)]


def test_notification_doubtful_twice_is_not_confirmed() -> None:
    dialogue = NotificationDialogue(message=MESSAGE)
    assert _run(dialogue, [Heard(None, "啊"), Heard(None, "嗯")]) == ["confirm", "confirm", None]
    assert [e for e in dialogue.entries if isinstance(e, Confirmed)] == [
        Confirmed(False, UNRECOGNISED, "啊 / 嗯", 0)]
    silent = NotificationDialogue(message=MESSAGE)  # silence is no reply: not asked again
    assert _run(silent, [Heard(None, "")]) == ["confirm", None]
    assert [e for e in silent.entries if isinstance(e, Confirmed)] == [
        Confirmed(False, UNRECOGNISED, "", 0)]


def test_broadcast_hands_off_on_request_only() -> None:
    dialogue = BroadcastDialogue(message="灵活就业人员新补贴将于下月施行。")
    assert _run(dialogue, [Heard(HANDOFF, "转人工")]) == ["handoff", None]
    assert [e for e in dialogue.entries if isinstance(e, HandOff)] == [
        HandOff("市民要求转人工", "转人工")]
    quiet = BroadcastDialogue(message="灵活就业人员新补贴将于下月施行。")
    _run(quiet, [Heard(None, "")])
    assert not [e for e in quiet.entries if isinstance(e, HandOff)]
    assert quiet.said()[-1] == "感谢您的接听，再见。"


# ----- templates ----------------------------------------------------------------------------
def test_templates() -> None:
    assert variables(MESSAGE) == ["姓名", "截止日期"]
    assert render(MESSAGE, {"姓名": "张三", "截止日期": "2026年01月31日"}) == (
        "张三您好，您的养老金资格认证将于2026年01月31日到期。")
    assert missing_columns(MESSAGE, ["截止日期"]) == []
    assert missing_columns(MESSAGE, ["截至日期"]) == ["截止日期"]  # 姓名 is optional
    for bad in ("{姓名您好", "您好}", "{}您好"):
        with pytest.raises(InvalidInput):
            variables(bad)


# ----- the closed-set classifier --------------------------------------------------------------
def _heard(text: str, scores: dict[str, float] | None = None,
           no_speech: float | None = 0.1) -> Transcription:
    return Transcription(text, 1.0, 1.0, 0.1, no_speech_prob=no_speech, scores=scores or {})


YES_NO = ["是", "否"]
AREAS = ["清运不及时", "设施不足", "其他"]


@pytest.mark.parametrize(("text", "answers", "expected"), [
    ("是的", YES_NO, "是"),
    ("不是", YES_NO, "否"),  # 是 inside 不是 does not count
    ("没有，不是每天", YES_NO, "否"),
    ("清运不及时", AREAS, "清运不及时"),
    ("我觉得是清运不及时", AREAS, "清运不及时"),
    ("设施不足吧，其他也有", AREAS, None),  # two answers: doubt
    ("听清楚了", ["听清楚了", "再听一遍"], "听清楚了"),
    ("没听清", ["听清楚了", "再听一遍"], "再听一遍"),
    ("我要转人工", ["人工", "不需要"], "人工"),
    ("人工客服", ["人工", "不需要"], "人工"),
    ("不用了谢谢", ["人工", "不需要"], "不需要"),
    ("不满意", ["满意", "基本满意", "不满意"], "不满意"),  # the callback classifier
    ("不太满意", ["满意", "不满意"], "不满意"),
    ("还行吧", ["满意", "基本满意", "不满意"], None),  # 一般 is never recorded as an answer
    ("", YES_NO, None),
])
def test_transcripts(text: str, answers: list[str], expected: str | None) -> None:
    assert classify_closed(_heard(text), answers).answer == expected


def test_a_negation_outside_the_answer_is_doubt() -> None:
    assert classify_closed(_heard("不是很清楚有没有设施不足"), AREAS).answer is None
    assert classify_closed(_heard("其他"), AREAS).answer == "其他"


def test_audio_decides_a_garbled_short_reply_only_when_it_sounds_alike() -> None:
    # Whisper heard 清运不及时 as 星夜不及时: the audio scores and the sound agree.
    scores = {"清运不及时": -12.0, "设施不足": -27.5, "其他": -19.0, "其它": -20.0, "别的": -24.0}
    assert classify_closed(_heard("星夜不及", scores), AREAS).answer == "清运不及时"
    # 满意 said to a yes/no question: the audio's nearest answer is 不是, but nothing of
    # the transcript sounds like any answer: not a guess.
    yes_no = {"不是": -4.9, "是": -9.6, "没有": -8.0, "否": -13.0, "对": -11.0, "是的": -11.7}
    assert classify_closed(_heard("買衣", yes_no), YES_NO).answer is None
    # The audio sure of another answer overrules a transcript that names one.
    assert classify_closed(_heard("是", {"不是": -2.0, "是": -12.0}), YES_NO).answer is None


def test_sound_alike() -> None:
    assert sound_alike("请你不及时", "清运不及时") == pytest.approx(0.8)
    assert sound_alike("星夜不及时", "清运不及时") == pytest.approx(0.7)
    assert sound_alike("买衣", "没有") < 0.5  # y is no initial: 衣 and 有 share nothing
    assert sound_alike("", "是") == 0.0


# ----- a call's record on the contact ----------------------------------------------------------
def _dialled(engine: Engine, folder: Path, contacts: str) -> tuple[str, str, str]:
    """A running survey campaign with one contact, dialled: (campaign, contact, call)."""
    campaigns = desk(engine)
    ref = campaigns.execute("create_campaign", actor=CENTRE, kind="survey", name="垃圾分类调研",
                            script=SAMPLE, window=["00:00-24:00"],
                            allow_rest_days=True)["campaign_id"]
    path = folder / "contacts.csv"
    path.write_text(contacts, encoding="utf-8")
    campaigns.execute("import_contacts", ref, actor=CENTRE, file=path)
    campaigns.execute("start_campaign", ref, actor=CENTRE)
    placed: list[tuple[str, str]] = []
    campaigns.tick(lambda contact, call: placed.append((contact, call)))
    [(contact_ref, call_id)] = placed
    return ref, contact_ref, call_id


def test_answers_said_and_a_work_order_are_recorded_on_the_contact(
        sqlite_engine: Engine, tmp_path: Path) -> None:
    campaigns = desk(sqlite_engine)
    ref, contact_ref, call_id = _dialled(sqlite_engine, tmp_path, "姓名,电话,小区\n王五,"
                                         "13800138000,东湖花园\n")
    dialogue = SurveyDialogue(survey=SURVEY)
    _run(dialogue, [Heard("不满意", "不满意，电话13800138000"), Heard("清运不及时", "清运不及时"),
                    Heard("否", "不是")])
    tickets = campaigns.service.record_outcome(contact_ref, call_id=call_id,
                                               outcome=states.CONNECTED, entries=dialogue.entries)
    contact = campaigns.service.contact(contact_ref)
    assert contact.state == states.DONE
    assert contact.answers == {"q1": "不满意", "q2": "清运不及时", "q3": "否"}
    assert [s["text"] for s in contact.said] == dialogue.said()
    assert contact.work_orders == tickets and len(tickets) == 1
    order = sqlite_engine.service.show(tickets[0])
    assert order["channel"] == "外呼" and order["category"] == "投诉"
    assert order["region"] == "东湖花园"
    assert ref in order["content"] and "清运不及时" in order["content"]
    history = campaigns.service.history(contact_ref)
    answered = [e["details"] for e in history["events"] if e["type"] == "Answered"]
    assert [(e["question"], e["answer"]) for e in answered] == [
        ("q1", "不满意"), ("q2", "清运不及时"), ("q3", "否")]
    assert "13800138000" not in answered[0]["transcript"]  # masked like the robot's
    assert {"call_id", "question", "answer", "transcript"} <= set(answered[0])
    assert history["state"]["answers"]["q2"] == "清运不及时"


# ----- templates against the contact file -------------------------------------------------------
def test_a_template_variable_the_file_lacks_is_refused_at_import(tmp_path: Path) -> None:
    from tests.test_cli import ok, refused

    db, now = str(tmp_path / "r.db"), "2025-09-30T10:00:00+08:00"
    ref = ok(db, now, "campaign", "create", "--kind", "notification", "--name", "养老金认证",
             "--message", MESSAGE, "--sms", "【12345】{姓名}，认证入口：https://example.gov.cn/rz"
             )["campaign_id"]
    contacts = tmp_path / "c.csv"
    contacts.write_text("姓名,电话,截至日期\n张三,13800138000,2026年01月31日\n", encoding="utf-8")
    error = refused(db, now, "campaign", "import", ref, str(contacts))
    assert "{截止日期}" in error and "截至日期" in error and "nothing was imported" in error
    assert ok(db, now, "campaign", "status", ref)["contacts"] == 0
    contacts.write_text("姓名,电话,截止日期\n张三,13800138000,2026年01月31日\n", encoding="utf-8")
    assert ok(db, now, "campaign", "import", ref, str(contacts))["imported"] == 1
    assert "短信" in refused(db, now, "campaign", "create", "--kind", "survey", "--name", "调研",
                           "--script", str(SAMPLE), "--sms", "x")
    assert "花括号" in refused(db, now, "campaign", "create", "--kind", "broadcast", "--name",
                            "宣导", "--message", "{姓名您好")


def test_rexian_history_shows_a_contacts_answers(tmp_path: Path) -> None:
    """The console script's `rexian history CONTACT` lists the call's new events."""
    from tests.test_cli import ok

    db = str(tmp_path / "r.db")
    engine = build_engine(db, clock=SimClock(datetime(2025, 10, 9, 10, 0, tzinfo=SHANGHAI)))
    try:
        ref, contact_ref, call_id = _dialled(engine, tmp_path, "姓名,电话\n王五,13800138000\n")
        dialogue = SurveyDialogue(survey=SURVEY)
        _run(dialogue, [Heard("满意", "满意"), Heard("是", "是的")])
        desk(engine).service.record_outcome(contact_ref, call_id=call_id,
                                            outcome=states.CONNECTED, entries=dialogue.entries)
    finally:
        engine.close()
    history = ok(db, "2025-10-09T11:00:00+08:00", "history", f"{ref}-000001")
    types = [e["type"] for e in history["events"]]
    assert types.count("Answered") == 2 and "Said" in types and types[-1] == "Finished"
    assert history["state"]["answers"] == {"q1": "满意", "q3": "是"}
    assert history["state"]["said"][-1]["text"] == SURVEY["outro"]
