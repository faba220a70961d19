"""The two rule books of a campaign: ONE explicit `transitions` machine each.

The campaign (草稿 → 已排期 → 进行中 ⇄ 已暂停 → 已完成 / 已取消) and each contact's calls
(待呼 → 呼叫中 → one outcome → 待重试 / 已完成). As in domain/lifecycle.py the machines are
never bound to an aggregate: each is compiled into a (state, trigger) -> next state table;
commands ask the table, events record the outcome, replay never consults a machine.

The compiled tables are committed (domain/campaign/machine_tables.py, `make diagram`,
i.e. `python -m tools.campaign_machines`) with the digest of the rule book they came
from: a stale table is never used (the machine is compiled instead) and a test fails
until it is regenerated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from domain.campaign.errors import IllegalCampaignTransition
from domain.campaign.states import (
    BUSY,
    CALLING,
    CAMPAIGN_STATES,
    CANCELLED,
    COMPLETED,
    CONTACT_STATES,
    DONE,
    DRAFT,
    NO_ANSWER,
    OUTCOME_TRIGGERS,
    OUTCOMES,
    PAUSED,
    POWERED_OFF,
    REJECTED,
    RETRY_PENDING,
    RUNNING,
    SCHEDULED,
    WAITING,
)


@dataclass(frozen=True)
class Trigger:
    name: str
    label: str
    internal: bool = False  # taken by the engine itself, never offered to staff


@dataclass(frozen=True)
class RuleBook:
    """One machine: its states, triggers and transitions (dest None: allowed, no move)."""

    name: str
    title: str
    states: tuple[str, ...]
    initial: str
    triggers: tuple[Trigger, ...]
    transitions: tuple[dict[str, Any], ...]
    labels: dict[str, Trigger] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", {t.name: t for t in self.triggers})

    def machine_kwargs(self) -> dict[str, Any]:
        return {"states": list(self.states), "transitions": [dict(t) for t in self.transitions],
                "initial": self.initial, "auto_transitions": False}

    def digest(self) -> str:
        book = json.dumps([self.machine_kwargs(), [t.name for t in self.triggers]],
                          ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(book.encode()).hexdigest()

    def compile(self) -> dict[tuple[str, str], str]:
        """Ask the `transitions` machine, for every state and trigger, where it leads."""
        from transitions import Machine

        probe = _Probe()
        machine = Machine(model=probe, **self.machine_kwargs())
        table: dict[tuple[str, str], str] = {}
        for state in self.states:
            for trigger in self.triggers:
                machine.set_state(state, model=probe)
                if probe.may_trigger(trigger.name):  # type: ignore[attr-defined]
                    probe.trigger(trigger.name)  # type: ignore[attr-defined]
                    table[(state, trigger.name)] = probe.state
        return table


class _Probe:
    """A throwaway model used once, at compile time, to ask a machine."""

    state: str


CAMPAIGN = RuleBook(
    "campaign", "外呼任务 Campaign", CAMPAIGN_STATES, DRAFT,
    (
        Trigger("import_contacts", "导入名单"),
        Trigger("schedule", "排期"),
        Trigger("begin", "开始外呼", internal=True),
        Trigger("pause", "暂停"),
        Trigger("resume", "恢复"),
        Trigger("complete", "完成", internal=True),
        Trigger("cancel", "取消"),
    ),
    (
        {"trigger": "import_contacts", "source": [DRAFT, SCHEDULED, PAUSED], "dest": None},
        {"trigger": "schedule", "source": DRAFT, "dest": SCHEDULED},
        {"trigger": "begin", "source": SCHEDULED, "dest": RUNNING},
        {"trigger": "pause", "source": RUNNING, "dest": PAUSED},
        {"trigger": "resume", "source": PAUSED, "dest": RUNNING},
        {"trigger": "complete", "source": RUNNING, "dest": COMPLETED},
        {"trigger": "cancel", "source": [DRAFT, SCHEDULED, RUNNING, PAUSED], "dest": CANCELLED},
    ),
)

_RETRYABLE_OR_NOT = list(OUTCOMES)
CONTACT = RuleBook(
    "contact", "外呼对象 Contact attempts", CONTACT_STATES, WAITING,
    (
        Trigger("dial", "拨号", internal=True),
        *(Trigger(trigger, state, internal=True) for trigger, state in OUTCOME_TRIGGERS.items()),
        Trigger("schedule_retry", "安排重呼", internal=True),
        Trigger("finish", "结束", internal=True),
        Trigger("abandon", "未拨出", internal=True),
    ),
    (
        {"trigger": "dial", "source": [WAITING, RETRY_PENDING], "dest": CALLING},
        *({"trigger": trigger, "source": CALLING, "dest": state}
          for trigger, state in OUTCOME_TRIGGERS.items()),
        # 已接通, 空号 and 停机 are never called again (空号/停机 are flagged instead).
        {"trigger": "schedule_retry", "source": [NO_ANSWER, BUSY, POWERED_OFF, REJECTED],
         "dest": RETRY_PENDING},
        {"trigger": "finish", "source": _RETRYABLE_OR_NOT, "dest": DONE},
        # The gateway never took the call (unreachable, refused the request): nobody was
        # called, so the attempt is not spent; it is dialled again after a back-off.
        {"trigger": "abandon", "source": CALLING, "dest": RETRY_PENDING},
    ),
)

RULE_BOOKS = (CAMPAIGN, CONTACT)


def _load(book: RuleBook) -> dict[tuple[str, str], str]:
    try:
        from domain.campaign.machine_tables import TABLES
    except ImportError:  # missing or half-written: regenerate with `make diagram`
        return book.compile()
    digest, table = TABLES.get(book.name, ("", {}))
    return dict(table) if digest == book.digest() else book.compile()


_TABLES = {book.name: _load(book) for book in RULE_BOOKS}


def transition_table(book: RuleBook) -> dict[tuple[str, str], str]:
    """A copy of the compiled table (for docs and tests)."""
    return dict(_TABLES[book.name])


def allowed(book: RuleBook, state: str) -> list[str]:
    return [t.name for t in book.triggers if (state, t.name) in _TABLES[book.name]]


def next_state(book: RuleBook, subject: str, state: str, trigger: str) -> str:
    """The state after `trigger`, or a refusal naming the state and what is allowed."""
    try:
        return _TABLES[book.name][(state, trigger)]
    except KeyError:
        label = book.labels[trigger].label if trigger in book.labels else trigger
        offered = [book.labels[t].label for t in allowed(book, state)
                   if not book.labels[t].internal]
        raise IllegalCampaignTransition(subject, state, label, offered) from None
