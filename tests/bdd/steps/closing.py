"""撤单、并单与转办：工单不经办理而结束的几种方式。"""

from __future__ import annotations

from tests.bdd.registry import action, then
from tests.bdd.world import CENTRE, World


@action('中心撤销工单，理由"{reason}"')
def withdraw(world: World, reason: str) -> None:
    """中心撤销尚未办结的工单（如市民撤诉）。例：当 中心撤销工单，理由"市民来电撤诉\""""
    world.engine.service.withdraw(world.ticket, reason=reason, actor=CENTRE)


@action('中心将工单并入工单"{alias}"，理由"{reason}"')
def merge(world: World, alias: str, reason: str) -> None:
    """把当前工单作为重复件并入有代号的主工单，两者都留下关联。例：当 中心将工单并入工单"甲"，理由"同一事项重复反映\""""
    world.engine.service.merge(world.ticket, into=world.ticket_of(alias), reason=reason,
                               actor=CENTRE)


@action('中心将工单转办至"{hotline}"，对方工单号"{reference}"，理由"{reason}"')
def transfer(world: World, hotline: str, reference: str, reason: str) -> None:
    """一键互转：把不属本地的工单转给外地热线，记下对方的工单号。例：当 中心将工单转办至"杭州12345"，对方工单号"HZ20250930001"，理由"事发地在杭州\""""
    world.engine.service.transfer(world.ticket, hotline=hotline, reference=reference,
                                  reason=reason, actor=CENTRE)


@then('工单已并入工单"{alias}"')
def merged_into(world: World, alias: str) -> None:
    """当前工单记录了它并入的主工单。例：那么 工单已并入工单"甲\""""
    actual = world.show()["merged_into"]
    assert actual == world.ticket_of(alias), f"工单并入了 {actual}"


@then('工单"{alias}"记录了当前工单为重复件')
def master_keeps_link(world: World, alias: str) -> None:
    """主工单记录了并入它的重复件。例：那么 工单"甲"记录了当前工单为重复件"""
    duplicates = world.show(world.ticket_of(alias))["duplicates"]
    assert world.ticket in duplicates, f"主工单的重复件为 {duplicates}"


@then('工单已转办至"{hotline}"，对方工单号"{reference}"')
def transferred(world: World, hotline: str, reference: str) -> None:
    """当前工单记录了接收热线和对方工单号。例：那么 工单已转办至"杭州12345"，对方工单号"HZ20250930001\""""
    info = world.show()["transfer"] or {}
    actual = (info.get("hotline"), info.get("reference"))
    assert actual == (hotline, reference), f"转办信息为 {info}"
