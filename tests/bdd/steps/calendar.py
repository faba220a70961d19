"""工作日历：暂定日历、导入国务院节假日安排通知、时限修订。"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from adapters.calendar.notice import parse_notice
from tests.bdd.registry import action, then
from tests.bdd.world import CENTRE, World

NOTICES = Path(__file__).resolve().parents[2] / "fixtures" / "notices"
BASIS = {"正式": "official", "暂定": "provisional"}


def _import(world: World, name: str, replace: bool) -> None:
    path = NOTICES / f"{name}.txt"
    assert path.exists(), f"没有通知文件 {path.name}（放在 tests/fixtures/notices/）"
    notice = parse_notice(path.read_text(encoding="utf-8"))
    world.engine.service.import_arrangement(notice.content(), replace=replace, actor=CENTRE)


@action('中心导入节假日安排通知"{notice}"')
def import_notice(world: World, notice: str) -> None:
    """导入国务院办公厅节假日安排通知（tests/fixtures/notices/ 下的文本），校验通过才记录。例：当 中心导入节假日安排通知"2027-样例\""""
    _import(world, notice, replace=False)


@action('中心以替换方式导入节假日安排通知"{notice}"')
def replace_notice(world: World, notice: str) -> None:
    """为已有导入安排的年份导入另一份安排（--replace），替换也会被记录。例：当 中心以替换方式导入节假日安排通知"2027-样例修订\""""
    _import(world, notice, replace=True)


@then('工单的时限依据为"{basis}"')
def basis_is(world: World, basis: str) -> None:
    """当前工单办理时限所依据的日历：正式（国务院安排）或暂定（通知尚未发布）。例：那么 工单的时限依据为"暂定\""""
    assert basis in BASIS, f"时限依据只有“正式”“暂定”，没有“{basis}”"
    actual = world.show()["deadline_basis"]
    assert actual == BASIS[basis], f"时限依据为 {actual}，不是 {BASIS[basis]}"


@then("工单没有时限依据")
def no_basis(world: World) -> None:
    """当前工单没有运行中的办理时限，因此也没有时限依据。例：那么 工单没有时限依据"""
    view = world.show()
    assert view["deadline_basis"] is None and view["sla_state"] is None, view


@then("工单的时限修订记录为{count:d}条")
def revisions_are(world: World, count: int) -> None:
    """当前工单因工作日历更新而重新计算时限的次数（每次一条修订事件）。例：那么 工单的时限修订记录为1条"""
    events = world.engine.service.history(world.ticket)["events"]
    actual = sum(1 for e in events if e["type"] == "DeadlineRevised")
    assert actual == count, f"时限修订记录 {actual} 条，不是 {count} 条"


@then('工作日历中"{day}"为"{day_kind}"')
def day_is(world: World, day: str, day_kind: str) -> None:
    """工作日历对某一天的判断：工作日或休息日。例：那么 工作日历中"2027-02-05"为"休息日\""""
    assert day_kind in ("工作日", "休息日"), f"只能是“工作日”或“休息日”，不是“{day_kind}”"
    calendar = world.engine.service.deadlines.calendar  # type: ignore[union-attr]
    working = calendar.is_working_day(date.fromisoformat(day))
    assert working == (day_kind == "工作日"), f"{day} 是{'工作日' if working else '休息日'}"
