"""历史与审计：查询工单在某一时刻的样子，校验事件链未被篡改。"""

from __future__ import annotations

from tests.bdd.registry import query, then
from tests.bdd.world import World, parse_moment


@query('查询工单在"{moment}"时的历史')
def history_as_of(world: World, moment: str) -> None:
    """查询当前工单截至某一时刻的状态和事件（查询失败时可用“操作被拒绝”检查）。例：当 查询工单在"2025-09-30 12:00"时的历史"""

    def run() -> None:
        world.history = world.engine.service.history(world.ticket, as_of=parse_moment(moment))

    world.history = None
    world.attempt(run)


def _history(world: World) -> dict[str, object]:
    assert world.history is not None, "还没有查询到历史"
    return world.history


@then('历史中的工单状态为"{state}"')
def history_state(world: World, state: str) -> None:
    """所查时刻工单的状态。例：那么 历史中的工单状态为"已派单\""""
    view = _history(world)["state"]
    assert isinstance(view, dict)
    assert view["state"] == state, f"当时的状态为“{view['state']}”"


@then("历史中共有{count:d}条事件记录")
def history_events(world: World, count: int) -> None:
    """所查时刻之前（含该时刻）工单记录的事件数。例：那么 历史中共有2条事件记录"""
    events = _history(world)["events"]
    assert isinstance(events, list)
    assert len(events) == count, f"历史中有 {len(events)} 条事件：{[e['type'] for e in events]}"


@then("审计校验通过")
def verified(world: World) -> None:
    """全部工单的事件哈希链与审计台账一致，没有被篡改或遗漏。例：那么 审计校验通过"""
    report = world.engine.verify()
    assert report.ok, f"审计校验未通过：{report.problems}"
    assert report.checked_events > 0 and report.unsealed_events == 0, report.as_dict()
