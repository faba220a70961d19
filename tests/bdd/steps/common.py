"""通用：时间、工单代号、预置状态与操作结果。"""

from __future__ import annotations

from collections.abc import Callable

from tests.bdd.registry import anytime, given, then
from tests.bdd.world import (
    AGENT,
    CALLBACK_AGENT,
    CENTRE,
    REGION,
    World,
    parse_moment,
    show_moment,
    unit,
)


@anytime('当前时间为"{moment}"')
def set_time(world: World, moment: str) -> None:
    """把模拟时钟拨到指定的北京时间，其后的操作都发生在这一刻。例：假如 当前时间为"2025-09-30 10:00\""""
    world.clock.set(parse_moment(moment).isoformat())


@anytime('记此工单为"{alias}"')
def remember(world: World, alias: str) -> None:
    """给当前工单起一个代号，供后面的步骤引用。例：假如 记此工单为"甲\""""
    world.aliases[alias] = world.ticket


@anytime('切换到工单"{alias}"')
def switch(world: World, alias: str) -> None:
    """把有代号的工单设为当前工单，其后的步骤都针对它。例：当 切换到工单"甲\""""
    world.current = world.ticket_of(alias)


def register(world: World, category: str, urgency: str = "一般", channel: str = "电话",
             content: str = "测试诉求") -> str:
    """Intake with default caller data; makes the new order the current one."""
    world.current = world.engine.service.intake(
        channel=channel, category=category, urgency=urgency, region=REGION, content=content,
        caller_name="测试市民", caller_phone="13800138000", actor=AGENT)
    return world.current


Command = Callable[[World], None]


def _path(dept: str) -> dict[str, list[Command]]:
    """The shortest path of commands from 已受理 to each state (the lead unit is `dept`)."""

    def dispatch(w: World) -> None:
        w.engine.service.dispatch(w.ticket, dept=dept, assist=[], actor=CENTRE)

    def sign(w: World) -> None:
        w.engine.service.sign(w.ticket, dept=dept, actor=unit(dept))

    def resolve(w: World) -> None:
        w.engine.service.resolve(w.ticket, dept=dept, reply="已办理完毕", actor=unit(dept))

    def extend(w: World) -> None:
        w.engine.service.request_extension(w.ticket, dept=dept, days=3, reason="需要协调",
                                           actor=unit(dept))

    def give_back(w: World) -> None:
        w.engine.service.return_order(w.ticket, dept=dept, reason="不属于本单位职责",
                                      actor=unit(dept))

    def archive(w: World) -> None:
        w.engine.service.record_callback(w.ticket, result="满意", comment="",
                                         actor=CALLBACK_AGENT)

    def withdraw(w: World) -> None:
        w.engine.service.withdraw(w.ticket, reason="市民撤诉", actor=CENTRE)

    def transfer(w: World) -> None:
        w.engine.service.transfer(w.ticket, hotline="杭州12345", reference="HZ0001",
                                  reason="属外地事项", actor=CENTRE)

    return {
        "已受理": [],
        "已派单": [dispatch],
        "办理中": [dispatch, sign],
        "办理中/延期审批中": [dispatch, sign, extend],
        "已退回": [dispatch, give_back],
        "已办结": [dispatch, sign, resolve],
        "已归档": [dispatch, sign, resolve, archive],
        "已撤销": [withdraw],
        "已转办": [transfer],
    }


@given('一张"{category}"工单处于"{state}"状态，主办单位"{dept}"')
def order_in_state(world: World, category: str, state: str, dept: str) -> None:
    """受理一张工单并按最短路径推进到指定状态（已合并时另建一张主工单）；已受理、已撤销、已转办不用主办单位。例：假如 一张"投诉"工单处于"已派单"状态，主办单位"区城管局\""""
    if state == "已合并":
        master = register(world, category, content="主工单")
        register(world, category)
        world.engine.service.merge(world.ticket, into=master, reason="重复反映", actor=CENTRE)
        return
    paths = _path(dept)
    assert state in paths, f"不支持预置状态“{state}”，可选：{'、'.join([*paths, '已合并'])}"
    register(world, category)
    for command in paths[state]:
        command(world)


@then("操作成功")
def succeeded(world: World) -> None:
    """上一个“当”操作被接受并记录了事件。例：那么 操作成功"""
    outcome = world.last_outcome()
    assert outcome.error is None, f"操作被拒绝：{outcome.error}"
    assert world.event_count() > outcome.events_before, "操作没有记录任何事件"


@then('操作被拒绝，提示包含"{text}"')
def refused(world: World, text: str) -> None:
    """上一个“当”操作被拒绝，中文提示包含指定文字，且没有记录任何事件（工单版本不变）。例：那么 操作被拒绝，提示包含"已派单\""""
    outcome = world.last_outcome()
    assert outcome.error is not None, "操作没有被拒绝"
    assert text in outcome.error.zh, f"提示“{outcome.error.zh}”中没有“{text}”"
    assert world.event_count() == outcome.events_before, "被拒绝的操作记录了事件"
    if outcome.ticket is not None:
        version = world.order(outcome.ticket).version
        assert version == outcome.version_before, (
            f"被拒绝的操作改变了工单版本：{outcome.version_before} -> {version}")


@then('工单状态为"{state}"')
def state_is(world: World, state: str) -> None:
    """当前工单的状态；写“办理中/延期审批中”时连子状态一起核对。例：那么 工单状态为"已退回\""""
    view = world.show()
    actual = view["state"]
    if "/" in state:
        actual = f"{view['state']}/{view['substate']}" if view["substate"] else view["state"]
    assert actual == state, f"工单状态为“{actual}”，不是“{state}”"


@then('工单的截止时间为"{moment}"')
def due_is(world: World, moment: str) -> None:
    """当前工单的办理截止时间（北京时间）。例：那么 工单的截止时间为"2025-10-28 23:59:59\""""
    due = world.order().due_at
    assert due == parse_moment(moment), f"截止时间为 {show_moment(due)}，不是 {moment}"
