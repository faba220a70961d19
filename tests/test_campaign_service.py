"""Campaigns on the real engine (SQLite, vault, read model) and the simulation clock: the
scheduler dials only within the hours and caps, retries exactly when recorded, ONE budget
per contact, pause / resume / cancel, completion, history and the audit chain."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine
from adapters.campaigns import CampaignDesk, desk
from domain.campaign import states
from domain.campaign.errors import IllegalCampaignTransition, UnknownCampaign
from domain.errors import InvalidInput
from domain.values import Actor
from tests.conftest import SimClock

CENTRE = Actor("dispatcher", "centre")


class Gateway:
    """Plays the telephone network: remembers each placed call until told its outcome."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, contact: str, call_id: str) -> None:
        self.calls.append((contact, call_id))

    def last(self, contact: str) -> str:
        return [call for who, call in self.calls if who == contact][-1]


def contacts_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "contacts.csv"
    rows = [f"市民{i},138{i:08d},{i * 10}" for i in range(1, count + 1)]
    path.write_text("姓名,电话,金额\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def running(engine: Engine, tmp_path: Path, count: int = 3, **rules: Any) -> tuple[CampaignDesk, str]:
    campaigns = desk(engine)
    ref = campaigns.execute("create_campaign", actor=CENTRE, kind="notification",
                            name="养老金资格认证提醒", message="{姓名}您好", **rules)["campaign_id"]
    campaigns.execute("import_contacts", ref, actor=CENTRE, file=contacts_file(tmp_path, count))
    campaigns.execute("start_campaign", ref, actor=CENTRE)
    return campaigns, ref


def contact(ref: str, number: int) -> str:
    return f"{ref}-{number:06d}"


def test_retry_intervals_are_honoured_exactly(sqlite_engine: Engine, clock: SimClock,
                                              tmp_path: Path) -> None:
    campaigns, ref = running(sqlite_engine, tmp_path, 1, no_answer_retry_min=30)
    gateway = Gateway()
    assert campaigns.tick(gateway)["dialled"] == 1
    first = contact(ref, 1)
    clock.advance(seconds=40)
    campaigns.service.record_outcome(first, call_id=gateway.last(first), outcome="未接通")
    retry_at = campaigns.service.contact(first).retry_after
    assert retry_at == clock.now + timedelta(minutes=30)
    clock.now = retry_at - timedelta(microseconds=1)
    assert campaigns.tick(gateway)["dialled"] == 0
    with pytest.raises(InvalidInput):  # the aggregate itself refuses an early dial
        campaigns.service.dial(first, attempt=2)
    clock.now = retry_at
    assert campaigns.tick(gateway)["dialled"] == 1
    assert campaigns.service.contact(first).attempts == 2
    assert campaigns.wake_at(ref) is None  # in progress: nothing else to wait for


def test_a_retry_due_while_the_hours_are_closed_waits_for_their_opening(
        sqlite_engine: Engine, clock: SimClock, tmp_path: Path) -> None:
    clock.set("2025-09-30 11:30:00")
    campaigns, ref = running(sqlite_engine, tmp_path, 1, no_answer_retry_min=20)
    gateway = Gateway()
    who = contact(ref, 1)
    assert campaigns.tick(gateway)["dialled"] == 1
    campaigns.service.record_outcome(who, call_id=gateway.last(who), outcome="未接通")
    clock.set("2025-09-30 12:30:00")  # the retry (11:50) is due, but it is lunch
    assert campaigns.tick(gateway)["dialled"] == 0
    # Not the past retry instant (a scheduler sleeping until it would spin): the opening.
    assert campaigns.wake_at(ref).isoformat() == "2025-09-30T06:00:00+00:00"  # 14:00


def test_one_budget_across_outcomes(sqlite_engine: Engine, clock: SimClock,
                                    tmp_path: Path) -> None:
    campaigns, ref = running(sqlite_engine, tmp_path, 1, max_retries=2, busy_retry_min=5,
                             no_answer_retry_min=10, off_retry_min=15)
    gateway = Gateway()
    who = contact(ref, 1)
    for outcome in ("忙", "未接通", "关机"):
        assert campaigns.tick(gateway)["dialled"] == 1
        campaigns.service.record_outcome(who, call_id=gateway.last(who), outcome=outcome)
        clock.advance(minutes=20)
    final = campaigns.service.contact(who)
    assert final.attempts == 3 and final.state == states.DONE  # 1 call + 2 retries, all causes
    assert "用完" in (final.finished_reason or "")
    assert [o["outcome"] for o in final.outcomes] == ["忙", "未接通", "关机"]
    assert campaigns.tick(gateway) == {"began": 0, "dialled": 0, "completed": 1, "interrupted": 0}
    assert campaigns.service.campaign(ref).state == states.COMPLETED


def test_calls_only_within_hours_and_caps(sqlite_engine: Engine, clock: SimClock,
                                          tmp_path: Path) -> None:
    clock.set("2025-09-30 11:59:00")
    campaigns, ref = running(sqlite_engine, tmp_path, 10, lines=3, per_minute=4)
    gateway = Gateway()
    assert campaigns.tick(gateway)["dialled"] == 3  # three lines
    for who, call in list(gateway.calls):
        campaigns.service.record_outcome(who, call_id=call, outcome="已接通")
    assert campaigns.tick(gateway)["dialled"] == 1  # four a minute
    clock.set("2025-09-30 12:00:00")
    assert campaigns.tick(gateway)["dialled"] == 0  # lunch
    assert campaigns.wake_at(ref) == clock.now + timedelta(hours=2)
    clock.set("2025-09-30 20:00:00")
    assert campaigns.wake_at(ref).isoformat() == "2025-10-09T01:00:00+00:00"  # after 国庆
    clock.set("2025-10-03 10:00:00")
    assert campaigns.tick(gateway)["dialled"] == 0
    with pytest.raises(InvalidInput) as closed:
        campaigns.service.dial(contact(ref, 9), attempt=1)
    assert closed.value.field == "window"


def test_pause_resume_cancel(sqlite_engine: Engine, clock: SimClock, tmp_path: Path) -> None:
    campaigns, ref = running(sqlite_engine, tmp_path, 4, lines=1)
    gateway = Gateway()
    assert campaigns.tick(gateway)["dialled"] == 1
    campaigns.execute("pause_campaign", ref, actor=CENTRE, reason="政策口径调整")
    who = gateway.calls[0][0]
    campaigns.service.record_outcome(who, call_id=gateway.last(who), outcome="已接通")
    assert campaigns.tick(gateway)["dialled"] == 0  # the call in progress ended; no new one
    status = campaigns.execute("resume_campaign", ref, actor=CENTRE)
    assert status["state"] == states.RUNNING and status["completed"] == 1
    assert campaigns.tick(gateway)["dialled"] == 1
    cancelled = campaigns.execute("cancel_campaign", ref, actor=CENTRE, reason="活动取消")
    assert cancelled["state"] == states.CANCELLED
    assert campaigns.tick(gateway)["dialled"] == 0
    with pytest.raises(IllegalCampaignTransition):
        campaigns.execute("resume_campaign", ref, actor=CENTRE)


def test_a_scheduled_campaign_begins_at_its_start(sqlite_engine: Engine, clock: SimClock,
                                                  tmp_path: Path) -> None:
    campaigns = desk(sqlite_engine)
    start = clock.now + timedelta(hours=1)
    ref = campaigns.execute("create_campaign", actor=CENTRE, kind="broadcast", name="灵活就业补贴",
                            message="新补贴下月起施行", start=start)["campaign_id"]
    campaigns.execute("import_contacts", ref, actor=CENTRE, file=contacts_file(tmp_path, 2))
    assert campaigns.execute("start_campaign", ref, actor=CENTRE)["state"] == states.SCHEDULED
    assert campaigns.tick(Gateway()) == {"began": 0, "dialled": 0, "completed": 0, "interrupted": 0}
    clock.now = start
    assert campaigns.tick(Gateway()) == {"began": 1, "dialled": 2, "completed": 0, "interrupted": 0}


def test_flags_and_status(sqlite_engine: Engine, clock: SimClock, tmp_path: Path) -> None:
    campaigns, ref = running(sqlite_engine, tmp_path, 3)
    gateway = Gateway()
    campaigns.tick(gateway)
    for (who, call), outcome in zip(gateway.calls, ("已接通", "空号", "停机"), strict=True):
        campaigns.service.record_outcome(who, call_id=call, outcome=outcome, detail="SIP 404")
    status = campaigns.execute("campaign_status", ref, actor=CENTRE)
    assert {k: status[k] for k in ("contacts", "dialled", "connected", "completed",
                                   "pending_retries", "flags")} == {
        "contacts": 3, "dialled": 3, "connected": 1, "completed": 3, "pending_retries": 0,
        "flags": {"空号": 1, "停机": 1}}
    assert status["answers"] == {}
    runner = sqlite_engine.runners["campaign_progress"]
    runner.rebuild()
    assert campaigns.execute("campaign_status", ref, actor=CENTRE) == status


def test_history_verify_and_no_personal_data_in_events(sqlite_engine: Engine, clock: SimClock,
                                                       tmp_path: Path) -> None:
    campaigns, ref = running(sqlite_engine, tmp_path, 1)
    gateway = Gateway()
    campaigns.tick(gateway)
    who = contact(ref, 1)
    campaigns.service.record_outcome(who, call_id=gateway.last(who), outcome="已接通")
    campaign_history = campaigns.service.history(ref)
    assert [e["type"] for e in campaign_history["events"]] == [
        "Created", "ContactsImported", "Scheduled", "Began"]
    contact_history = campaigns.service.history(who)
    assert [e["type"] for e in contact_history["events"]] == [
        "Imported", "Dialled", "CallEnded", "Finished"]
    assert contact_history["state"]["phone"] == "138****0001"
    assert "13800000001" not in repr(contact_history) and "市民1" not in repr(contact_history)
    events = list(sqlite_engine.service.events.get(campaigns.service.contact(who).id))
    assert "13800000001" not in repr(events)
    assert sqlite_engine.verify().ok
    with pytest.raises(UnknownCampaign):
        campaigns.service.history("CP20250930FFFFFF")


def test_start_needs_contacts_and_kinds_need_content(sqlite_engine: Engine) -> None:
    campaigns = desk(sqlite_engine)
    ref = campaigns.execute("create_campaign", actor=CENTRE, kind="notification", name="换证",
                            message="驾驶证即将到期")["campaign_id"]
    with pytest.raises(InvalidInput):
        campaigns.execute("start_campaign", ref, actor=CENTRE)
    with pytest.raises(InvalidInput) as no_script:
        campaigns.execute("create_campaign", actor=CENTRE, kind="survey", name="垃圾分类")
    assert no_script.value.field == "script"
    with pytest.raises(InvalidInput):
        campaigns.execute("create_campaign", actor=CENTRE, kind="notification", name="x")
