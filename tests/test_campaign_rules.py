"""The campaign's pure rules: both machines, calling hours on the official calendar, the
line and per-minute caps, and the retry rules with ONE budget per contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.campaign import machines as m
from domain.campaign import states
from domain.campaign.errors import IllegalCampaignTransition
from domain.campaign.pacing import CallingHours, Pacing
from domain.campaign.retries import RetryRules
from domain.errors import InvalidInput
from domain.policies.calendar import WorkingCalendar
from domain.views import SHANGHAI
from tools import campaign_machines

CAL = WorkingCalendar.standard()
HOURS = CallingHours.parse(["09:00-12:00", "14:00-20:00"])


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_committed_tables_and_diagrams_are_generated_from_the_machines() -> None:
    assert campaign_machines.main(["--check"]) == 0, "run `make diagram`"
    for book in m.RULE_BOOKS:
        assert m.transition_table(book) == book.compile()


def test_campaign_machine() -> None:
    table = m.transition_table(m.CAMPAIGN)
    assert table[(states.DRAFT, "schedule")] == states.SCHEDULED
    assert table[(states.SCHEDULED, "begin")] == states.RUNNING
    assert table[(states.RUNNING, "pause")] == states.PAUSED and table[(states.PAUSED, "resume")] == states.RUNNING
    assert table[(states.RUNNING, "complete")] == states.COMPLETED
    assert {s for (s, t) in table if t == "cancel"} == {states.DRAFT, states.SCHEDULED, states.RUNNING, states.PAUSED}
    assert not [k for k in table if k[0] in states.CLOSED_CAMPAIGN_STATES]
    with pytest.raises(IllegalCampaignTransition) as refused:
        m.next_state(m.CAMPAIGN, "外呼任务 CP1", states.DRAFT, "pause")
    assert "草稿" in refused.value.zh and "排期" in refused.value.zh


def test_contact_machine() -> None:
    table = m.transition_table(m.CONTACT)
    assert table[(states.WAITING, "dial")] == table[(states.RETRY_PENDING, "dial")] == states.CALLING
    for outcome in states.OUTCOMES:
        assert table[(states.CALLING, states.TRIGGER_OF_OUTCOME[outcome])] == outcome
        assert table[(outcome, "finish")] == states.DONE
    assert {s for (s, t) in table if t == "schedule_retry"} == {states.NO_ANSWER, states.BUSY,
                                                               states.POWERED_OFF, states.REJECTED}
    assert (states.DONE, "dial") not in table and (states.CALLING, "dial") not in table


def test_calling_hours_on_working_days() -> None:
    assert HOURS.is_open(bj("2025-09-30 09:00"), CAL)
    assert not HOURS.is_open(bj("2025-09-30 12:00"), CAL)  # half-open windows
    assert HOURS.next_open(bj("2025-09-30 12:00"), CAL) == bj("2025-09-30 14:00")
    assert HOURS.next_open(bj("2025-09-30 10:17:03"), CAL) == bj("2025-09-30 10:17:03")
    # 国庆 2025: 1–8 October off; Sunday 28 September and Saturday 11 October worked (调休).
    assert HOURS.next_open(bj("2025-09-30 20:00"), CAL) == bj("2025-10-09 09:00")
    assert HOURS.is_open(bj("2025-09-28 15:00"), CAL)
    assert HOURS.is_open(bj("2025-10-11 15:00"), CAL)
    assert not HOURS.is_open(bj("2025-10-12 15:00"), CAL)
    rest_days = CallingHours.parse(["09:00-12:00"], rest_days=True)
    assert rest_days.next_open(bj("2025-09-30 12:00"), CAL) == bj("2025-10-01 09:00")


def test_hours_are_beijing_time_whatever_the_instant_zone() -> None:
    utc = bj("2025-09-30 13:59:59").astimezone(UTC)
    assert not HOURS.is_open(utc, CAL)
    assert HOURS.is_open(utc + timedelta(seconds=1), CAL)


@pytest.mark.parametrize("windows", [["9-12"], ["12:00-09:00"], ["09:00-12:00", "11:00-13:00"],
                                     [], ["25:00-26:00"]])
def test_bad_windows_are_refused(windows: list[str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        CallingHours.parse(windows)
    assert refused.value.field == "window"


def test_line_and_per_minute_caps_slide_exactly() -> None:
    pacing = Pacing(lines=4, per_minute=3)
    t0 = bj("2025-09-30 09:00")
    dials = [t0, t0 + timedelta(seconds=10), t0 + timedelta(seconds=20)]
    assert pacing.capacity(t0 + timedelta(seconds=20), 0, dials) == 0
    assert pacing.capacity(t0 + timedelta(seconds=59, microseconds=999_999), 0, dials) == 0
    assert pacing.capacity(t0 + timedelta(seconds=60), 0, dials) == 1  # t0 left the minute
    assert pacing.next_slot(t0 + timedelta(seconds=30), dials) == t0 + timedelta(seconds=60)
    assert pacing.capacity(t0 + timedelta(minutes=5), 4, []) == 0  # every line busy
    assert pacing.capacity(t0 + timedelta(minutes=5), 2, []) == 2
    with pytest.raises(InvalidInput):
        Pacing(0, 1)


def test_one_retry_budget_shared_across_outcomes() -> None:
    rules = RetryRules(budget=2, after={"未接通": 30, "忙": 5, "关机": 60, "拒接": None})
    at = bj("2025-09-30 10:00")
    first = rules.decide("未接通", 0, at)
    assert first.retry_after == at + timedelta(minutes=30) and first.flag is None
    assert rules.decide("忙", 1, at).retry_after == at + timedelta(minutes=5)
    spent = rules.decide("关机", 2, at)  # a third cause gets no budget of its own
    assert spent.retry_after is None and "用完" in spent.reason
    assert rules.decide("拒接", 0, at).retry_after is None
    for number_gone in ("空号", "停机"):
        flagged = rules.decide(number_gone, 0, at)
        assert flagged.retry_after is None and flagged.flag == number_gone
    assert rules.decide("已接通", 0, at).retry_after is None


def test_retry_rules_are_checked() -> None:
    with pytest.raises(InvalidInput):
        RetryRules(budget=-1)
    with pytest.raises(InvalidInput):
        RetryRules(after={"空号": 10})
    with pytest.raises(InvalidInput):
        RetryRules(after={"忙": 0})


def test_the_progress_read_model_names_the_machines_states_and_events() -> None:
    """projections/campaign_progress.py tells events apart by their module and name (start-up
    time): they must be the aggregates' own."""
    from domain.campaign.campaign import Campaign
    from domain.campaign.contact import Contact
    from projections import campaign_progress as progress

    assert (progress.CAMPAIGN_EVENTS, progress.CONTACT_EVENTS) == (Campaign.__module__,
                                                                   Contact.__module__)
    assert all(issubclass(getattr(Campaign, name), Campaign.Event)
               for name in progress.CAMPAIGN_STATE_EVENTS)
