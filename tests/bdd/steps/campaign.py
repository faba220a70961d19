"""外呼任务：呼叫时段、节假日、重呼间隔与共享的重呼次数、空号标记、暂停与恢复。"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.campaigns import CampaignDesk, desk
from domain.campaign import states
from tests.bdd.registry import action, given, then
from tests.bdd.world import CENTRE, World, parse_moment, show_moment


@dataclass
class Scene:
    """What a campaign scenario knows besides the World: its settings, its campaign and
    the calls the simulated telephone network holds (contact -> latest call id)."""

    settings: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None
    calls: dict[str, str] = field(default_factory=dict)
    dialled: int | None = None  # calls placed by the last 外呼调度

    def place(self, contact: str, call_id: str) -> None:
        self.calls[contact] = call_id


def scene(world: World) -> Scene:
    found: Scene | None = getattr(world, "campaign_scene", None)
    if found is None:
        found = Scene()
        world.campaign_scene = found  # type: ignore[attr-defined]
    return found


def campaigns(world: World) -> CampaignDesk:
    return desk(world.engine)


def campaign_ref(world: World) -> str:
    ref = scene(world).ref
    assert ref, "场景中还没有外呼任务（先创建外呼任务）"
    return ref


def contact_ref(world: World, number: int) -> str:
    return f"{campaign_ref(world)}-{number:06d}"


def _windows(text: str) -> list[str]:
    return [part.strip() for part in text.split("、") if part.strip()]


@given("外呼重呼间隔为未接通{minutes:d}分钟、忙线{count:d}分钟")
def retry_intervals(world: World, minutes: int, count: int) -> None:
    """其后创建的外呼任务的重呼间隔（关机仍为默认 60 分钟）。例：假如 外呼重呼间隔为未接通30分钟、忙线5分钟"""
    scene(world).settings.update(no_answer_retry_min=minutes, busy_retry_min=count)


@given("外呼线路数为{lines:d}，每分钟最多拨出{count:d}个呼叫")
def pacing(world: World, lines: int, count: int) -> None:
    """其后创建的外呼任务同时占用的线路上限和任意 60 秒内的拨号上限。例：假如 外呼线路数为2，每分钟最多拨出3个呼叫"""
    scene(world).settings.update(lines=lines, per_minute=count)


def _create(world: World, windows: str, count: int, rest_days: bool) -> None:
    s = scene(world)
    s.ref = campaigns(world).execute(
        "create_campaign", actor=CENTRE, kind="notification", name="养老金资格认证提醒",
        message="{姓名}您好，请按时完成养老金资格认证", window=_windows(windows),
        max_retries=count, allow_rest_days=rest_days, **s.settings)["campaign_id"]


@action('中心创建外呼任务，呼叫时段"{windows}"，重呼次数为{count:d}')
def create(world: World, windows: str, count: int) -> None:
    """创建一个事项通知外呼任务：北京时间的呼叫时段（多个用顿号分隔），每个联系人共用的重呼次数；休息日和节假日不呼叫。例：假如 中心创建外呼任务，呼叫时段"09:00-12:00、14:00-20:00"，重呼次数为2"""
    _create(world, windows, count, rest_days=False)


@action('中心创建允许休息日呼叫的外呼任务，呼叫时段"{windows}"，重呼次数为{count:d}')
def create_rest_days(world: World, windows: str, count: int) -> None:
    """同上，但周末和法定节假日也在呼叫时段内拨号。例：假如 中心创建允许休息日呼叫的外呼任务，呼叫时段"09:00-12:00"，重呼次数为0"""
    _create(world, windows, count, rest_days=True)


@action("外呼任务导入{count:d}个联系人")
def import_contacts(world: World, count: int) -> None:
    """从 CSV 名单导入若干联系人（姓名、电话各不相同），依次为第 1、2……位联系人。例：假如 外呼任务导入3个联系人"""
    import_rows(world, "姓名,电话", [f"市民{i},139{i:08d}" for i in range(1, count + 1)])


def import_rows(world: World, header: str, rows: list[str]) -> None:
    """A contact file with `header` and `rows` (CSV lines) imported into the campaign."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "名单.csv"
        path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        campaigns(world).execute("import_contacts", campaign_ref(world), actor=CENTRE,
                                 file=path)


@action("中心启动外呼任务")
def start(world: World) -> None:
    """启动外呼任务：无开始时间则立即进入“进行中”。例：假如 中心启动外呼任务"""
    campaigns(world).execute("start_campaign", campaign_ref(world), actor=CENTRE)


@action("中心暂停外呼任务")
def pause(world: World) -> None:
    """暂停外呼任务：进行中的通话照常结束，不再拨出新的呼叫。例：当 中心暂停外呼任务"""
    campaigns(world).execute("pause_campaign", campaign_ref(world), actor=CENTRE)


@action("中心恢复外呼任务")
def resume(world: World) -> None:
    """恢复已暂停的外呼任务。例：当 中心恢复外呼任务"""
    campaigns(world).execute("resume_campaign", campaign_ref(world), actor=CENTRE)


@action('中心取消外呼任务，理由"{reason}"')
def cancel(world: World, reason: str) -> None:
    """取消外呼任务，此后不再呼叫任何人。例：当 中心取消外呼任务，理由"活动取消\""""
    campaigns(world).execute("cancel_campaign", campaign_ref(world), actor=CENTRE,
                             reason=reason)


@action('时间来到"{moment}"并执行外呼调度')
def tick_at(world: World, moment: str) -> None:
    """把模拟时钟拨到指定时刻，外呼调度按呼叫时段、线路和每分钟上限拨出到期的呼叫。例：当 时间来到"2025-09-30 10:30"并执行外呼调度"""
    world.clock.set(parse_moment(moment).isoformat())
    s = scene(world)
    s.dialled = campaigns(world).tick(s.place)["dialled"]


@action('第{number:d}位联系人的呼叫结果为"{outcome}"')
def outcome(world: World, number: int, outcome: str) -> None:
    """模拟电话网络报告该联系人当前通话的结果：已接通、未接通、忙、空号、停机、关机、拒接。例：当 第1位联系人的呼叫结果为"未接通\""""
    ref = contact_ref(world, number)
    call = scene(world).calls.get(ref)
    assert call, f"第 {number} 位联系人还没有被呼叫过"
    campaigns(world).service.record_outcome(ref, call_id=call, outcome=outcome)


@then("本次外呼调度拨出{count:d}个呼叫")
def dialled(world: World, count: int) -> None:
    """上一次外呼调度实际拨出的呼叫数。例：那么 本次外呼调度拨出2个呼叫"""
    actual = scene(world).dialled
    assert actual is not None, "还没有执行外呼调度"
    assert actual == count, f"拨出 {actual} 个呼叫，不是 {count} 个"


@then('外呼任务状态为"{campaign_state}"')
def campaign_state_is(world: World, campaign_state: str) -> None:
    """外呼任务当前的状态。例：那么 外呼任务状态为"已暂停\""""
    actual = campaigns(world).service.campaign(campaign_ref(world)).state
    assert actual == campaign_state, f"外呼任务状态为“{actual}”，不是“{campaign_state}”"


@then('第{number:d}位联系人状态为"{contact_state}"')
def contact_state_is(world: World, number: int, contact_state: str) -> None:
    """该联系人当前的呼叫状态。例：那么 第1位联系人状态为"待重试\""""
    actual = campaigns(world).service.contact(contact_ref(world, number)).state
    assert actual == contact_state, f"第 {number} 位联系人状态为“{actual}”，不是“{contact_state}”"


@then("第{number:d}位联系人共被呼叫{count:d}次")
def attempts_are(world: World, number: int, count: int) -> None:
    """该联系人至今被拨打的次数（首呼加各种原因的重呼）。例：那么 第1位联系人共被呼叫3次"""
    actual = campaigns(world).service.contact(contact_ref(world, number)).attempts
    assert actual == count, f"第 {number} 位联系人被呼叫 {actual} 次，不是 {count} 次"


@then('第{number:d}位联系人的下次呼叫时间为"{moment}"')
def retry_at(world: World, number: int, moment: str) -> None:
    """该联系人待重试时记录的最早重呼时刻（结果时刻加重呼间隔，精确到秒）。例：那么 第1位联系人的下次呼叫时间为"2025-09-30 10:30:00\""""
    actual = campaigns(world).service.contact(contact_ref(world, number)).retry_after
    assert actual == parse_moment(moment), f"下次呼叫时间为 {show_moment(actual)}"


@then('第{number:d}位联系人被标记为"{outcome}"')
def flagged(world: World, number: int, outcome: str) -> None:
    """该联系人的号码被标记（空号或停机），不再呼叫，并计入外呼进度的标记数。例：那么 第2位联系人被标记为"空号\""""
    contact = campaigns(world).service.contact(contact_ref(world, number))
    assert contact.flag == outcome, f"第 {number} 位联系人的标记为“{contact.flag}”"
    assert contact.state == states.DONE
    flags = campaigns(world).campaign_status(campaign_ref(world))["flags"]
    assert flags.get(outcome, 0) >= 1, f"外呼进度中没有“{outcome}”标记：{flags}"


@then('外呼任务下次可以拨号的时间为"{moment}"')
def wake_at(world: World, moment: str) -> None:
    """按呼叫时段、节假日、上限和重呼时刻，外呼任务最早何时能再拨出呼叫。例：那么 外呼任务下次可以拨号的时间为"2025-10-09 09:00\""""
    actual = campaigns(world).wake_at(campaign_ref(world))
    assert actual == parse_moment(moment), f"下次可以拨号的时间为 {show_moment(actual)}"
