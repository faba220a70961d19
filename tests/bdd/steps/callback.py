"""回访与重办：办结后回访市民，满意归档，不满意重办并督办。"""

from __future__ import annotations

from tests.bdd.registry import action, then
from tests.bdd.world import CALLBACK_AGENT, World


@action('回访市民，结果为"{result}"')
def callback(world: World, result: str) -> None:
    """回访已办结的工单：满意或基本满意即归档，不满意则重办，无法联系则归档并标记未回访。例：当 回访市民，结果为"满意\""""
    world.engine.service.record_callback(world.ticket, result=result, comment="",
                                         actor=CALLBACK_AGENT)


@action('回访市民，结果为"{result}"，意见"{comment}"')
def callback_with_comment(world: World, result: str, comment: str) -> None:
    """回访并记录市民的意见。例：当 回访市民，结果为"不满意"，意见"路灯仍然不亮\""""
    world.engine.service.record_callback(world.ticket, result=result, comment=comment,
                                         actor=CALLBACK_AGENT)


@then("工单的重办次数为{count:d}")
def reopened(world: World, count: int) -> None:
    """当前工单因回访不满意被重办的次数。例：那么 工单的重办次数为1"""
    actual = world.show()["reopen_count"]
    assert actual == count, f"重办次数为 {actual}"


@then('"{dept}"收到第{count:d}张督办单')
def supervised(world: World, dept: str, count: int) -> None:
    """工单的第 N 张督办单发给了指定单位（回访不满意重办时生成）。例：那么 "区城管局"收到第1张督办单"""
    orders = world.show()["supervision_orders"]
    assert len(orders) >= count, f"工单只有 {len(orders)} 张督办单"
    order = orders[count - 1]
    assert order["dept"] == dept, f"第 {count} 张督办单发给了“{order['dept']}”"
    assert order["no"] == f"{world.ticket}-DB{count:02d}", f"督办单编号为 {order['no']}"


@then('工单带有"{flag}"标记')
def flagged(world: World, flag: str) -> None:
    """当前工单带有指定标记。例：那么 工单带有"未回访"标记"""
    flags = world.show()["flags"]
    assert flag in flags, f"工单的标记为 {flags}"


@then("工单没有任何标记")
def not_flagged(world: World) -> None:
    """当前工单没有任何标记（如满意归档的工单没有“未回访”）。例：那么 工单没有任何标记"""
    flags = world.show()["flags"]
    assert not flags, f"工单的标记为 {flags}"
