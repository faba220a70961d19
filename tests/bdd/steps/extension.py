"""延期：主办单位申请延期，中心批准或驳回。"""

from __future__ import annotations

from tests.bdd.registry import action, then
from tests.bdd.world import CENTRE, World, unit


@action('"{dept}"申请延期{days:d}个工作日，理由"{reason}"')
def request_extension(world: World, dept: str, days: int, reason: str) -> None:
    """主办单位在办理中申请延长办理时限，等待中心审批。例：当 "区城管局"申请延期5个工作日，理由"需协调多个部门\""""
    world.engine.service.request_extension(world.ticket, dept=dept, days=days, reason=reason,
                                           actor=unit(dept))


@action('中心批准延期，意见"{note}"')
def approve_extension(world: World, note: str) -> None:
    """中心批准待审批的延期申请，截止时间顺延申请的工作日数。例：当 中心批准延期，意见"同意\""""
    world.engine.service.approve_extension(world.ticket, note=note, actor=CENTRE)


@action('中心驳回延期，理由"{reason}"')
def deny_extension(world: World, reason: str) -> None:
    """中心驳回待审批的延期申请，截止时间不变。例：当 中心驳回延期，理由"理由不充分\""""
    world.engine.service.deny_extension(world.ticket, reason=reason, actor=CENTRE)


@then('最近一次延期申请的审批结果为"{decision}"')
def extension_decided(world: World, decision: str) -> None:
    """当前工单最近一次延期申请的审批结果。例：那么 最近一次延期申请的审批结果为"批准\""""
    extensions = world.show()["extensions"]
    assert extensions, "工单没有已审批的延期申请"
    actual = extensions[-1]["decision"]
    assert actual == decision, f"最近一次延期审批结果为“{actual}”"
