"""The names of the campaign's and the contacts' states (Chinese: they appear in JSON and
exports). Kept apart from the machines so the catalogue and the CLI's start-up import no
more than these strings."""

from __future__ import annotations

# ----- the campaign ------------------------------------------------------------------------
DRAFT = "草稿"
SCHEDULED = "已排期"
RUNNING = "进行中"
PAUSED = "已暂停"
COMPLETED = "已完成"
CANCELLED = "已取消"
CAMPAIGN_STATES = (DRAFT, SCHEDULED, RUNNING, PAUSED, COMPLETED, CANCELLED)
CLOSED_CAMPAIGN_STATES = (COMPLETED, CANCELLED)

# ----- one contact's calls -------------------------------------------------------------------
WAITING = "待呼"
CALLING = "呼叫中"
CONNECTED = "已接通"
NO_ANSWER = "未接通"
BUSY = "忙"
VACANT = "空号"
SUSPENDED = "停机"
POWERED_OFF = "关机"
REJECTED = "拒接"
RETRY_PENDING = "待重试"
DONE = "已完成"
# What a dial can end in: the trigger that records it -> the state it leads to.
OUTCOME_TRIGGERS: dict[str, str] = {
    "connect": CONNECTED, "no_answer": NO_ANSWER, "busy": BUSY, "vacant": VACANT,
    "suspended": SUSPENDED, "powered_off": POWERED_OFF, "rejected": REJECTED,
}
OUTCOMES = tuple(OUTCOME_TRIGGERS.values())
TRIGGER_OF_OUTCOME = {state: trigger for trigger, state in OUTCOME_TRIGGERS.items()}
CONTACT_STATES = (WAITING, CALLING, *OUTCOMES, RETRY_PENDING, DONE)
