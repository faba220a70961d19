"""The work-order lifecycle: ONE explicit `transitions` machine is the rule book.

The machine is never bound to an aggregate (that would pollute the aggregate's
__dict__ and break snapshots, see stack notes). It is compiled into a lookup table
(state, command) -> next state; commands ask the table, events record the outcome,
and replay never consults the machine.

Compiling needs `transitions.extensions`, which imports asyncio (~35 ms of every CLI
start-up), so the compiled table is committed as domain/lifecycle_table.py
(`make diagram`, i.e. `python -m tools.lifecycle_table`). It carries the digest of the rule
book it was compiled from: a table that no longer matches is never used (the machine is
compiled instead), and a test fails until it is regenerated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from domain.commands import BY_NAME
from domain.errors import IllegalTransition

# Top-level states (their Chinese names appear in JSON output).
INTAKE = "已受理"
DISPATCHED = "已派单"
RETURNED = "已退回"
HANDLING = "办理中"
RESOLVED = "已办结"
ARCHIVED = "已归档"
WITHDRAWN = "已撤销"
MERGED = "已合并"
TRANSFERRED = "已转办"

# Sub-states of 办理中.
WORKING = "处理中"
EXTENSION_PENDING = "延期审批中"

TERMINAL_STATES = (ARCHIVED, WITHDRAWN, MERGED, TRANSFERRED)
OPEN_STATES = (INTAKE, DISPATCHED, RETURNED, HANDLING)
SEPARATOR = "_"

STATES: list[Any] = [
    INTAKE,
    DISPATCHED,
    RETURNED,
    {"name": HANDLING, "children": [WORKING, EXTENSION_PENDING], "initial": WORKING},
    RESOLVED,
    ARCHIVED,
    WITHDRAWN,
    MERGED,
    TRANSFERRED,
]

_H_WORKING = f"{HANDLING}{SEPARATOR}{WORKING}"
_H_PENDING = f"{HANDLING}{SEPARATOR}{EXTENSION_PENDING}"


@dataclass(frozen=True)
class Command:
    """A command of the lifecycle: its trigger name and the label staff see."""

    name: str
    label: str
    internal: bool = False  # issued by the engine itself, never offered to staff


def _staff(name: str) -> Command:
    """A trigger that is itself a catalogue command: its label is the catalogue's."""
    return Command(name, BY_NAME[name].label)


# The machine's triggers: the staff commands of the catalogue (domain/commands.py) that
# move an order, the outcomes a callback result triggers, and the engine's own.
COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        _staff("answer"),
        _staff("dispatch"),
        _staff("sign"),
        _staff("return_order"),
        _staff("redispatch"),
        _staff("reject_return"),
        _staff("transfer"),
        _staff("request_extension"),
        _staff("approve_extension"),
        _staff("deny_extension"),
        _staff("resolve"),
        Command("archive", "回访归档"),
        Command("reopen", "重办"),
        Command("reopen_to_centre", "重办（退回中心派单）"),
        _staff("withdraw"),
        _staff("merge"),
        Command("attach_duplicate", "并入重复件", internal=True),
        _staff("report_plan"),
        Command("escalate", "催督办", internal=True),
        Command("record_call", "记录外呼结果", internal=True),
        Command("request_handoff", "转人工", internal=True),
        Command("revise_deadline", "修订时限", internal=True),
    )
}

# dest None = internal transition: allowed in the state, state unchanged.
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "answer", "source": INTAKE, "dest": RESOLVED},
    {"trigger": "dispatch", "source": INTAKE, "dest": DISPATCHED},
    {"trigger": "sign", "source": DISPATCHED, "dest": HANDLING},
    {"trigger": "return_order", "source": [DISPATCHED, _H_WORKING], "dest": RETURNED},
    {"trigger": "redispatch", "source": RETURNED, "dest": DISPATCHED},
    {"trigger": "reject_return", "source": RETURNED, "dest": HANDLING},
    {"trigger": "transfer", "source": [INTAKE, RETURNED], "dest": TRANSFERRED},
    {"trigger": "request_extension", "source": _H_WORKING, "dest": _H_PENDING},
    {"trigger": "approve_extension", "source": _H_PENDING, "dest": _H_WORKING},
    {"trigger": "deny_extension", "source": _H_PENDING, "dest": _H_WORKING},
    {"trigger": "resolve", "source": HANDLING, "dest": RESOLVED},
    {"trigger": "archive", "source": RESOLVED, "dest": ARCHIVED},
    {"trigger": "reopen", "source": RESOLVED, "dest": HANDLING},
    {"trigger": "reopen_to_centre", "source": RESOLVED, "dest": INTAKE},
    {"trigger": "withdraw", "source": list(OPEN_STATES), "dest": WITHDRAWN},
    {"trigger": "merge", "source": list(OPEN_STATES), "dest": MERGED},
    {"trigger": "attach_duplicate", "source": list(OPEN_STATES), "dest": None},
    {"trigger": "report_plan", "source": [DISPATCHED, HANDLING], "dest": None},
    {"trigger": "escalate", "source": [DISPATCHED, RETURNED, HANDLING], "dest": None},
    {"trigger": "record_call", "source": [DISPATCHED, RETURNED, HANDLING, RESOLVED],
     "dest": None},
    {"trigger": "request_handoff", "source": [RESOLVED], "dest": None},
    # A running clock is recomputed when its calendar changes (provisional → official).
    {"trigger": "revise_deadline", "source": [DISPATCHED, HANDLING], "dest": None},
]

MACHINE_KWARGS: dict[str, Any] = {
    "states": STATES,
    "transitions": TRANSITIONS,
    "initial": INTAKE,
    "auto_transitions": False,
}


def split_state(full: str) -> tuple[str, str | None]:
    """'办理中_延期审批中' -> ('办理中', '延期审批中')."""
    top, _, sub = full.partition(SEPARATOR)
    return top, (sub or None)


def join_state(state: str, substate: str | None) -> str:
    return f"{state}{SEPARATOR}{substate}" if substate else state


class _Probe:
    """A throwaway model used once, at compile time, to ask the machine."""

    state: str


def _leaf_states() -> list[str]:
    leaves: list[str] = []
    for state in STATES:
        if isinstance(state, dict):
            leaves += [f"{state['name']}{SEPARATOR}{child}" for child in state["children"]]
        else:
            leaves.append(state)
    return leaves


def rule_book_digest() -> str:
    """What the compiled table depends on: the machine's arguments and the commands."""
    book = json.dumps([MACHINE_KWARGS, list(COMMANDS)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(book.encode()).hexdigest()


def compile_table() -> dict[tuple[str, str], str]:
    """Ask the `transitions` machine, for every leaf state and command, where it leads."""
    from transitions.extensions import HierarchicalMachine

    probe = _Probe()
    machine = HierarchicalMachine(model=probe, **MACHINE_KWARGS)
    table: dict[tuple[str, str], str] = {}
    for leaf in _leaf_states():
        for name in COMMANDS:
            machine.set_state(leaf, model=probe)
            if probe.may_trigger(name):  # type: ignore[attr-defined]
                probe.trigger(name)  # type: ignore[attr-defined]
                table[(leaf, name)] = probe.state
    return table


def _load_table() -> dict[tuple[str, str], str]:
    try:
        from domain.lifecycle_table import DIGEST, TABLE
    except ImportError:  # missing or half-written: regenerate with `make diagram`
        return compile_table()
    if DIGEST != rule_book_digest():
        return compile_table()  # stale: correct, only slower to start
    return dict(TABLE)


_TABLE = _load_table()
LEAF_STATES: tuple[str, ...] = tuple(_leaf_states())


def allowed_commands(full_state: str) -> list[str]:
    return [name for name in COMMANDS if (full_state, name) in _TABLE]


def next_state(ticket_no: str, full_state: str, command: str) -> str:
    """The state after `command`, or IllegalTransition naming the state and what is allowed."""
    try:
        return _TABLE[(full_state, command)]
    except KeyError:
        top, _ = split_state(full_state)
        raise IllegalTransition(
            ticket_no,
            top if full_state == top else full_state.replace(SEPARATOR, "/"),
            COMMANDS[command].label if command in COMMANDS else command,
            [COMMANDS[c].label for c in allowed_commands(full_state)
             if not COMMANDS[c].internal],
        ) from None


def transition_table() -> dict[tuple[str, str], str]:
    """A copy of the compiled table (for docs and tests)."""
    return dict(_TABLE)
