"""办理与退单：签收、退单、改派、退单异议驳回与办结。"""

from __future__ import annotations

from tests.bdd.registry import action, then
from tests.bdd.world import CENTRE, World, show_moment, unit


@action('"{dept}"签收工单')
def sign(world: World, dept: str) -> None:
    """单位签收派给它的工单，工单进入办理中（只有主办单位能签收）。例：当 "区城管局"签收工单"""
    world.engine.service.sign(world.ticket, dept=dept, actor=unit(dept))


@action('"{dept}"退单，理由"{reason}"')
def give_back(world: World, dept: str, reason: str) -> None:
    """主办单位认为不属于本单位职责而退回中心，须写理由；退回期间不计办理时限。例：当 "区城管局"退单，理由"不属于本单位职责\""""
    world.engine.service.return_order(world.ticket, dept=dept, reason=reason, actor=unit(dept))


@action('中心将工单改派给"{dept}"，理由"{reason}"')
def redispatch(world: World, dept: str, reason: str) -> None:
    """中心把已退回的工单重新派出：派给原单位时，退单前的时限继续计算并顺延退回期间的工作日；派给其他单位时重新起算。例：当 中心将工单改派给"区水务局"，理由"属供水管网问题\""""
    world.engine.service.redispatch(world.ticket, dept=dept, assist=[], reason=reason,
                                    actor=CENTRE)


@action('中心驳回退单，理由"{reason}"')
def reject_return(world: World, reason: str) -> None:
    """中心不同意退单（退单异议驳回），工单回到原单位办理中，退单前的时限继续计算并顺延退回期间的工作日。例：当 中心驳回退单，理由"属于本单位职责范围\""""
    world.engine.service.reject_return(world.ticket, reason=reason, actor=CENTRE)


@action('"{dept}"办结工单，答复"{reply}"')
def resolve(world: World, dept: str, reply: str) -> None:
    """主办单位办结工单并填写答复，工单进入已办结、等待回访。例：当 "区城管局"办结工单，答复"路灯已修复\""""
    world.engine.service.resolve(world.ticket, dept=dept, reply=reply, actor=unit(dept))


@then('工单的退单次数为{count:d}，最近一次退单理由为"{reason}"')
def returns_are(world: World, count: int, reason: str) -> None:
    """当前工单累计被退回的次数与最近一次退单理由。例：那么 工单的退单次数为1，最近一次退单理由为"不属于本单位职责\""""
    view = world.show()
    assert view["return_count"] == count, f"退单次数为 {view['return_count']}"
    assert view["returns"] and view["returns"][-1]["reason"] == reason, (
        f"退单记录为 {view['returns']}")


@then("工单当前没有办理时限")
def no_clock(world: World) -> None:
    """办理时限已停止（如已退回时不计入任何单位的时限）。例：那么 工单当前没有办理时限"""
    due = world.order().due_at
    assert due is None, f"工单仍有截止时间 {show_moment(due)}"


@then('工单的答复为"{reply}"')
def reply_is(world: World, reply: str) -> None:
    """当前工单记录的答复内容。例：那么 工单的答复为"路灯已修复\""""
    actual = world.show()["reply"]
    assert actual == reply, f"答复为“{actual}”"
