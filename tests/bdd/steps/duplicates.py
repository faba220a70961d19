"""并单建议与群诉预警：受理时的疑似重复工单、多位市民反映同一事项时的群诉预警。"""

from __future__ import annotations

from adapters.duplicates import DuplicateDesk
from tests.bdd.registry import given, then
from tests.bdd.world import AGENT, REGION, World


def _calls(world: World, count: int, content: str, *, same_citizen: bool) -> None:
    """`count` intakes of `content`, each examined for mass complaints as CLI intake does."""
    taken = len(world.engine.list())
    for n in range(count):
        serial = 0 if same_citizen else taken + n
        world.current = world.engine.service.intake(
            channel="电话", category="投诉", urgency="一般", region=REGION, content=content,
            caller_name="市民", caller_phone=f"1390000{serial:04d}", actor=AGENT)
        DuplicateDesk(world.engine).scan()


@given('{count:d}位不同市民来电反映"{content}"')
def distinct_citizens_call(world: World, count: int, content: str) -> None:
    """几位不同市民（各自的电话）先后来电反映同一事项，每次受理后检测群诉；最后一张成为当前工单。例：假如 5位不同市民来电反映"幸福里小区门口道路夜间施工噪音扰民\""""
    _calls(world, count, content, same_citizen=False)


@given('同一位市民来电{count:d}次反映"{content}"')
def one_citizen_calls(world: World, count: int, content: str) -> None:
    """同一位市民（同一电话）多次来电反映同一事项，每次受理后检测群诉。例：假如 同一位市民来电5次反映"幸福里小区门口道路夜间施工噪音扰民\""""
    _calls(world, count, content, same_citizen=True)


@then('当前工单的疑似重复工单为工单"{alias}"')
def candidate_is(world: World, alias: str) -> None:
    """受理时列出的疑似重复工单恰好是有代号的那一张（同区域、时限内、内容相近、未结束）。例：那么 当前工单的疑似重复工单为工单"甲\""""
    found = [c["ticket_no"] for c in DuplicateDesk(world.engine).candidates(world.ticket)
             ["candidates"]]
    assert found == [world.ticket_of(alias)], f"疑似重复工单为 {found}"


@then("群诉预警共{count:d}条")
def alerts_are(world: World, count: int) -> None:
    """已记录的群诉预警条数（每个群诉只记一条，后续来电追加到同一条）。例：那么 群诉预警共1条"""
    alerts = DuplicateDesk(world.engine).alerts()
    assert len(alerts) == count, f"群诉预警 {len(alerts)} 条：{alerts}"


@then("群诉预警涉及{count:d}张工单")
def alert_members_are(world: World, count: int) -> None:
    """唯一一条群诉预警所含的工单数。例：那么 群诉预警涉及6张工单"""
    [alert] = DuplicateDesk(world.engine).alerts()
    assert alert["members"] == count, f"群诉预警涉及 {alert['members']} 张工单"
