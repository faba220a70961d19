"""临期与督办：办理时限、到期检查与督办升级（临期提醒 → 一级催办 → 超期督办 → 通报）。

The 到期检查 is the real ticker (adapters.ticker.tick) on the real engine, driven by the
scenario's simulation clock exactly like `rexian --now ... tick`.
"""

from __future__ import annotations

from typing import Any

from adapters.ticker import COUNT_NAMES, tick
from domain.workorder import order_id
from tests.bdd.registry import action, then
from tests.bdd.world import World, parse_moment, show_moment, unit

STEPS = {label: step for step, label in COUNT_NAMES.items()}  # 临期提醒 -> warning


def _step(label: str) -> str:
    assert label in STEPS, f"没有“{label}”这一步，可选：{'、'.join(STEPS)}"
    return STEPS[label]


def _ticked(world: World) -> dict[str, int]:
    assert world.ticked is not None, "还没有执行到期检查（或到期检查出错）"
    return world.ticked


def _calls(world: World) -> list[Any]:
    """The OutboundCallRequested events of the current order, oldest first."""
    return [e for e in world.engine.service.events.get(order_id(world.ticket))
            if type(e).__name__ == "OutboundCallRequested"]


def _unit_calls(world: World, dept: str) -> list[Any]:
    return [c for c in _calls(world) if c.target_role == "department" and c.target_dept == dept]


def _describe(calls: list[Any]) -> str:
    return "；".join(f"{c.target_dept or '市民'}：{c.script}" for c in calls) or "（没有外呼）"


# ----- the ticker ----------------------------------------------------------------------
@action('时间来到"{moment}"并执行到期检查')
def tick_at(world: World, moment: str) -> None:
    """把时钟拨到指定时刻并执行一次到期检查，执行所有已到时刻、尚未执行的督办步骤。例：当 时间来到"2025-10-10 00:00"并执行到期检查"""
    world.ticked = None
    world.clock.set(parse_moment(moment).isoformat())
    world.ticked = tick(world.engine)


@action("再次执行到期检查")
def tick_again(world: World) -> None:
    """在同一时刻再执行一次到期检查（已执行过的步骤不应再执行）。例：当 再次执行到期检查"""
    world.ticked = None
    world.ticked = tick(world.engine)


@then('本次检查的"{step}"数为{count:d}')
def ticked_count(world: World, step: str, count: int) -> None:
    """最近一次到期检查对所有工单执行某一步骤的次数。例：那么 本次检查的"临期提醒"数为1"""
    actual = _ticked(world)[_step(step)]
    assert actual == count, f"本次检查执行“{step}” {actual} 次，不是 {count} 次"


@then("本次检查没有执行任何步骤")
def ticked_nothing(world: World) -> None:
    """最近一次到期检查没有执行任何督办步骤。例：那么 本次检查没有执行任何步骤"""
    done = {COUNT_NAMES[s]: n for s, n in _ticked(world).items() if n}
    assert not done, f"本次检查执行了 {done}"


# ----- the order's clock and ladder ----------------------------------------------------
@then('工单的时限状态为"{sla}"')
def sla_is(world: World, sla: str) -> None:
    """当前时刻工单的办理时限状态：正常、临期或超期。例：那么 工单的时限状态为"临期\""""
    actual = world.show()["sla_state"]
    assert actual == sla, f"时限状态为“{actual}”，不是“{sla}”"


@then("工单的督办等级为{level:d}")
def level_is(world: World, level: int) -> None:
    """当前办理时限下已到达的督办等级（0 到 3）。例：那么 工单的督办等级为2"""
    actual = world.show()["escalation_level"]
    assert actual == level, f"督办等级为 {actual}，不是 {level}"


@then('工单的"{step}"时间为"{moment}"')
def ladder_at(world: World, step: str, moment: str) -> None:
    """当前办理时限下某一督办步骤的执行时刻（北京时间）。例：那么 工单的"临期提醒"时间为"2025-10-10 00:00\""""
    instant = world.order().ladder.get(_step(step))
    actual = parse_moment(instant) if instant else None
    assert actual == parse_moment(moment), f"“{step}”时间为 {show_moment(actual)}，不是 {moment}"


@then('工单的派单截止时间为"{moment}"')
def dispatch_due_is(world: World, moment: str) -> None:
    """话务中心须在此时间前派单（及时派单，北京时间）。例：那么 工单的派单截止时间为"2025-09-30 12:00\""""
    due = world.order().dispatch_due_at
    assert due == parse_moment(moment), f"派单截止时间为 {show_moment(due)}，不是 {moment}"


@then('工单记录了"{step}"通知，内容包含"{text}"')
def notice_recorded(world: World, step: str, text: str) -> None:
    """工单最近一条该步骤的督办通知包含指定文字。例：那么 工单记录了"通报"通知，内容包含"热线领导\""""
    notices = [n for n in world.show()["notices"] if n["step"] == _step(step)]
    assert notices, f"工单没有“{step}”通知"
    assert text in notices[-1]["notice"], f"通知为“{notices[-1]['notice']}”"


@then('工单没有"{flag}"标记')
def not_flagged_with(world: World, flag: str) -> None:
    """当前工单不带指定标记（其他标记不论）。例：那么 工单没有"超期"标记"""
    flags = world.show()["flags"]
    assert flag not in flags, f"工单的标记为 {flags}"


@then("工单共有{count:d}张督办单")
def supervision_count(world: World, count: int) -> None:
    """当前工单累计的督办单张数（超期督办与重办督办合计）。例：那么 工单共有1张督办单"""
    orders = world.show()["supervision_orders"]
    assert len(orders) == count, f"工单有 {len(orders)} 张督办单：{orders}"


@then('第{count:d}张督办单的类型为"{kind}"')
def supervision_kind(world: World, count: int, kind: str) -> None:
    """当前工单第 N 张督办单的类型。例：那么 第1张督办单的类型为"超期督办\""""
    orders = world.show()["supervision_orders"]
    assert len(orders) >= count, f"工单只有 {len(orders)} 张督办单"
    actual = orders[count - 1]["kind"]
    assert actual == kind, f"第 {count} 张督办单的类型为“{actual}”"


# ----- outbound calls ------------------------------------------------------------------
@then('向"{dept}"发起外呼，内容包含"{text}"')
def called_unit(world: World, dept: str, text: str) -> None:
    """工单向某单位（拨其值班电话）发起过外呼，话术包含指定文字。例：那么 向"区城管局"发起外呼，内容包含"18:00\""""
    phone = world.engine.departments.get(dept).duty_phone
    calls = [c for c in _unit_calls(world, dept) if text in c.script]
    assert calls, f"没有向“{dept}”发起内容包含“{text}”的外呼；外呼：{_describe(_calls(world))}"
    assert all(c.phone == phone for c in calls), f"外呼号码不是“{dept}”的值班电话 {phone}"


@then('向市民发起外呼，内容包含"{text}"')
def called_citizen(world: World, text: str) -> None:
    """工单向来电市民发起过外呼（号码由外呼系统从加密库取得），话术包含指定文字。例：那么 向市民发起外呼，内容包含"预计于2025年10月10日23:59前办结\""""
    citizen = world.order().citizen_id
    calls = [c for c in _calls(world) if c.target_role == "citizen" and text in c.script]
    assert calls, f"没有向市民发起内容包含“{text}”的外呼；外呼：{_describe(_calls(world))}"
    assert all(c.citizen_id == citizen and not c.phone for c in calls), "市民外呼的对象或号码不对"


@then('向"{dept}"共发起{count:d}次外呼')
def unit_call_count(world: World, dept: str, count: int) -> None:
    """工单累计向某单位发起的外呼次数（0 表示没有打过）。例：那么 向"区政府"共发起0次外呼"""
    calls = _unit_calls(world, dept)
    assert len(calls) == count, f"向“{dept}”发起了 {len(calls)} 次外呼：{_describe(calls)}"


# ----- the unit's plan -----------------------------------------------------------------
@action('"{dept}"反馈处理计划，预计"{eta}"完成，说明"{plan}"')
def report_plan(world: World, dept: str, eta: str, plan: str) -> None:
    """主办单位收到临期提醒后反馈处理计划；当日 18:00 前反馈则不再向其上级催办。例：当 "区城管局"反馈处理计划，预计"2025-10-12 18:00"完成，说明"已安排施工队\""""
    world.engine.service.report_plan(world.ticket, dept=dept, eta=parse_moment(eta), note=plan,
                                     actor=unit(dept))


@then('工单的处理计划为"{dept}"预计"{eta}"完成')
def plan_is(world: World, dept: str, eta: str) -> None:
    """当前办理时限下单位反馈的处理计划。例：那么 工单的处理计划为"区城管局"预计"2025-10-12 18:00"完成"""
    plan = world.show()["plan"]
    assert plan, "工单没有处理计划"
    actual = (plan["dept"], parse_moment(plan["eta"]))
    assert actual == (dept, parse_moment(eta)), f"处理计划为 {plan}"


@then("工单没有处理计划")
def no_plan(world: World) -> None:
    """当前办理时限下单位尚未反馈处理计划（新的时限会清除旧计划）。例：那么 工单没有处理计划"""
    plan = world.show()["plan"]
    assert plan is None, f"工单有处理计划 {plan}"
