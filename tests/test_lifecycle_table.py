"""The compiled transition table is exactly what the `transitions` machine allows.

The table is probed independently here: for every leaf state and every trigger a FRESH
HierarchicalMachine is started in that state and the trigger is fired for real (no
`may_trigger`); a MachineError means "not allowed". The result must equal the compiled
table in both directions, and both must equal the hand-written rule book below.
"""

from __future__ import annotations

import pytest
from transitions import MachineError
from transitions.extensions import HierarchicalMachine

from domain import lifecycle as lc
from domain import lifecycle_table
from domain.errors import IllegalTransition
from tools import lifecycle_table as generator

H_WORKING = f"{lc.HANDLING}{lc.SEPARATOR}{lc.WORKING}"
H_PENDING = f"{lc.HANDLING}{lc.SEPARATOR}{lc.EXTENSION_PENDING}"


class _Model:
    state: str


def probe(leaf: str, trigger: str) -> str | None:
    """Fire `trigger` on a fresh machine started in `leaf`; the resulting state or None."""
    model = _Model()
    kwargs = dict(lc.MACHINE_KWARGS)
    kwargs["initial"] = leaf
    HierarchicalMachine(model=model, **kwargs)
    assert model.state == leaf
    try:
        fired = model.trigger(trigger)  # type: ignore[attr-defined]
    except MachineError:
        return None
    assert fired is True
    return model.state


def probed_table() -> dict[tuple[str, str], str]:
    table = {}
    for leaf in lc.LEAF_STATES:
        for trigger in lc.COMMANDS:
            dest = probe(leaf, trigger)
            if dest is not None:
                table[(leaf, trigger)] = dest
    return table


# The rule book written out by hand (state -> {command: next state}).
_OPEN_EXTRAS = {"withdraw": lc.WITHDRAWN, "merge": lc.MERGED}
EXPECTED: dict[str, dict[str, str]] = {
    lc.INTAKE: {"answer": lc.RESOLVED, "dispatch": lc.DISPATCHED, "transfer": lc.TRANSFERRED,
                "attach_duplicate": lc.INTAKE, **_OPEN_EXTRAS},
    lc.DISPATCHED: {"sign": H_WORKING, "return_order": lc.RETURNED,
                    "report_plan": lc.DISPATCHED, "escalate": lc.DISPATCHED,
                    "record_call": lc.DISPATCHED, "attach_duplicate": lc.DISPATCHED,
                    "revise_deadline": lc.DISPATCHED, **_OPEN_EXTRAS},
    lc.RETURNED: {"redispatch": lc.DISPATCHED, "reject_return": H_WORKING,
                  "transfer": lc.TRANSFERRED, "escalate": lc.RETURNED,
                  "record_call": lc.RETURNED, "attach_duplicate": lc.RETURNED,
                  **_OPEN_EXTRAS},
    H_WORKING: {"return_order": lc.RETURNED, "request_extension": H_PENDING,
                "resolve": lc.RESOLVED, "report_plan": H_WORKING, "escalate": H_WORKING,
                "record_call": H_WORKING, "attach_duplicate": H_WORKING,
                "revise_deadline": H_WORKING, **_OPEN_EXTRAS},
    H_PENDING: {"approve_extension": H_WORKING, "deny_extension": H_WORKING,
                "resolve": lc.RESOLVED, "report_plan": H_PENDING, "escalate": H_PENDING,
                "record_call": H_PENDING, "attach_duplicate": H_PENDING,
                "revise_deadline": H_PENDING, **_OPEN_EXTRAS},
    lc.RESOLVED: {"archive": lc.ARCHIVED, "reopen": H_WORKING, "reopen_to_centre": lc.INTAKE,
                  "record_call": lc.RESOLVED, "request_handoff": lc.RESOLVED},
    lc.ARCHIVED: {},
    lc.WITHDRAWN: {},
    lc.MERGED: {},
    lc.TRANSFERRED: {},
}


@pytest.fixture(scope="module")
def probed() -> dict[tuple[str, str], str]:
    return probed_table()


def test_leaf_states_cover_every_state_and_substate() -> None:
    assert set(lc.LEAF_STATES) == set(EXPECTED)
    assert len(lc.LEAF_STATES) == len(set(lc.LEAF_STATES)) == 10
    # The bare parent state is never a place an order can rest in.
    assert lc.HANDLING not in lc.LEAF_STATES


def test_machine_triggers_are_exactly_the_commands() -> None:
    model = _Model()
    machine = HierarchicalMachine(model=model, **lc.MACHINE_KWARGS)
    assert set(machine.events) == set(lc.COMMANDS)
    assert machine.auto_transitions is False


def test_every_allowed_pair_is_in_the_table_with_the_same_destination(probed) -> None:
    table = lc.transition_table()
    for pair, dest in probed.items():
        assert pair in table, f"machine allows {pair} but the table lacks it"
        assert table[pair] == dest, pair


def test_every_table_entry_is_allowed_by_the_machine(probed) -> None:
    for pair, dest in lc.transition_table().items():
        assert probed.get(pair) == dest, f"table has {pair} -> {dest}; machine disagrees"


def test_table_matches_the_rule_book(probed) -> None:
    expected = {(state, cmd): dest for state, row in EXPECTED.items()
                for cmd, dest in row.items()}
    assert lc.transition_table() == expected
    assert probed == expected


@pytest.mark.parametrize("state", lc.TERMINAL_STATES)
def test_terminal_states_allow_nothing(state: str, probed) -> None:
    assert lc.allowed_commands(state) == []
    assert not [pair for pair in lc.transition_table() if pair[0] == state]
    assert not [pair for pair in probed if pair[0] == state]
    for command in lc.COMMANDS:
        with pytest.raises(IllegalTransition) as info:
            lc.next_state("202509300001", state, command)
        assert info.value.state == state
        assert info.value.allowed == []
        assert f"“{state}”" in info.value.zh
        assert "无" in info.value.zh and "none" in info.value.en


def test_illegal_pairs_raise_naming_state_command_and_staff_commands() -> None:
    table = lc.transition_table()
    for leaf in lc.LEAF_STATES:
        staff_allowed = [lc.COMMANDS[c].label for c in lc.allowed_commands(leaf)
                         if not lc.COMMANDS[c].internal]
        shown = leaf.replace(lc.SEPARATOR, "/")
        for command in lc.COMMANDS:
            if (leaf, command) in table:
                assert lc.next_state("T1", leaf, command) == table[(leaf, command)]
                continue
            with pytest.raises(IllegalTransition) as info:
                lc.next_state("T1", leaf, command)
            err = info.value
            assert err.state == shown
            assert err.command == lc.COMMANDS[command].label
            assert err.allowed == staff_allowed
            assert f"当前状态为“{shown}”" in err.zh and f"in state {shown}" in err.en
            # Internal commands (engine-only) are never offered to staff.
            internal = [c.label for c in lc.COMMANDS.values() if c.internal]
            assert internal and not set(internal) & set(err.allowed)


def test_committed_table_is_the_compiled_machine() -> None:
    assert generator.main(["--check"]) == 0, \
        "domain/lifecycle_table.py is stale: run `make diagram`"
    assert lifecycle_table.DIGEST == lc.rule_book_digest()
    assert lifecycle_table.TABLE == lc.compile_table() == lc.transition_table()


def test_a_stale_committed_table_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle_table, "DIGEST", "0" * 64)
    monkeypatch.setattr(lifecycle_table, "TABLE", {(lc.ARCHIVED, "reopen"): lc.HANDLING})
    assert lc._load_table() == lc.compile_table()


def test_the_digest_follows_the_rule_book(monkeypatch: pytest.MonkeyPatch) -> None:
    before = lc.rule_book_digest()
    monkeypatch.setattr(lc, "TRANSITIONS", [*lc.TRANSITIONS, {"trigger": "archive",
                                                              "source": lc.INTAKE,
                                                              "dest": lc.ARCHIVED}])
    monkeypatch.setitem(lc.MACHINE_KWARGS, "transitions", lc.TRANSITIONS)
    assert lc.rule_book_digest() != before


def test_table_is_a_copy() -> None:
    table = lc.transition_table()
    table[(lc.ARCHIVED, "reopen")] = lc.HANDLING
    assert (lc.ARCHIVED, "reopen") not in lc.transition_table()


def test_split_and_join_state_round_trip() -> None:
    for leaf in lc.LEAF_STATES:
        top, sub = lc.split_state(leaf)
        assert lc.join_state(top, sub) == leaf
    assert lc.split_state(H_PENDING) == (lc.HANDLING, lc.EXTENSION_PENDING)
    assert lc.split_state(lc.INTAKE) == (lc.INTAKE, None)
