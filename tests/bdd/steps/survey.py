"""民意调研：问卷的顺序与分支、听不清时再问一次、按规则开出外呼工单。"""

from __future__ import annotations

from pathlib import Path

from domain.campaign import states
from domain.campaign.dialogue import Heard as Reply
from domain.campaign.dialogue import SurveyDialogue
from tests.bdd.registry import action, then
from tests.bdd.steps.campaign import (
    campaign_ref,
    campaigns,
    contact_ref,
    import_rows,
    scene,
)
from tests.bdd.world import CENTRE, World

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "fixtures" / "campaign"
UNHEARD = "（听不清）"  # a reply the robot could not place in the answer set


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split("、") if part.strip()]


@action('中心创建民意调研任务，问卷为"{questionnaire}"')
def create_survey(world: World, questionnaire: str) -> None:
    """用问卷文件（tests/fixtures/campaign/ 下的 TOML）创建民意调研外呼任务，默认呼叫时段。例：假如 中心创建民意调研任务，问卷为"垃圾分类调查.toml\""""
    scene(world).ref = campaigns(world).execute(
        "create_campaign", actor=CENTRE, kind="survey", name="垃圾分类满意度调查",
        script=QUESTIONNAIRES / questionnaire)["campaign_id"]


@action('外呼任务导入{count:d}个"{estate}"小区的联系人')
def import_estate(world: World, count: int, estate: str) -> None:
    """导入若干联系人，名单的“小区”列为同一小区（开出的工单以它为所属区域）。例：假如 外呼任务导入3个"东湖花园"小区的联系人"""
    import_rows(world, "姓名,电话,小区",
                [f"市民{i},139{i:08d},{estate}" for i in range(1, count + 1)])


@action('第{number:d}位联系人接听并依次回答"{replies}"')
def answer_survey(world: World, number: int, replies: str) -> None:
    """联系人接听调度拨出的呼叫，机器人按问卷提问，市民依次作答（顿号分隔；“（听不清）”表示机器人无法归入答案集的回答），通话结束后记录问答与结果。例：当 第1位联系人接听并依次回答"不满意、清运不及时、否\""""
    ref = contact_ref(world, number)
    call = scene(world).calls.get(ref)
    assert call, f"第 {number} 位联系人还没有被呼叫过"
    service = campaigns(world).service
    dialogue = SurveyDialogue(survey=service.campaign(campaign_ref(world)).script or {})
    ask = dialogue.open()
    for reply in _items(replies):
        assert not ask.ends, f"问卷已结束，多余的回答：{reply}"
        heard = Reply(None, "嗯") if reply == UNHEARD else Reply(reply, reply)
        ask = dialogue.hear(heard)
    service.record_outcome(ref, call_id=call, outcome=states.CONNECTED,
                           entries=dialogue.entries)


@then('第{number:d}位联系人的问卷回答为"{answers}"')
def answers_are(world: World, number: int, answers: str) -> None:
    """联系人记录的问卷回答，按提问顺序，问题编号=答案（未识别的写作 未识别）。例：那么 第1位联系人的问卷回答为"q1=不满意、q2=清运不及时、q3=否\""""
    history = campaigns(world).service.history(contact_ref(world, number))
    recorded = [f"{e['details']['question']}={e['details']['answer']}"
                for e in history["events"] if e["type"] == "Answered"]
    assert recorded == _items(answers), recorded


@then("第{number:d}位联系人被再问了{count:d}次")
def reasked(world: World, number: int, count: int) -> None:
    """机器人因听不清而简化重问的次数。例：那么 第3位联系人被再问了1次"""
    said = campaigns(world).service.contact(contact_ref(world, number)).said
    assert sum(s["kind"] == "reask" for s in said) == count, said


@then('第{number:d}位联系人开出{count:d}张"{category}"工单，渠道为"{channel}"，区域为"{estate}"')
def orders_opened(world: World, number: int, count: int, category: str, channel: str,
                  estate: str) -> None:
    """问卷开单规则为联系人开出的工单：张数、类别、受理渠道、所属区域。例：那么 第1位联系人开出1张"投诉"工单，渠道为"外呼"，区域为"东湖花园\""""
    contact = campaigns(world).service.contact(contact_ref(world, number))
    assert len(contact.work_orders) == count, contact.work_orders
    for ticket in contact.work_orders:
        order = world.engine.service.show(ticket)
        assert (order["category"], order["channel"], order["region"]) == (category, channel,
                                                                          estate), order
        assert contact.campaign_ref in order["content"]


@then("第{number:d}位联系人没有开出工单")
def no_orders(world: World, number: int) -> None:
    """联系人的回答没有命中问卷的开单规则。例：那么 第2位联系人没有开出工单"""
    contact = campaigns(world).service.contact(contact_ref(world, number))
    assert contact.work_orders == []
