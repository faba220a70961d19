"""Generated documents must match their single sources of truth."""

from __future__ import annotations

from tools import diagram


def test_lifecycle_diagram_is_generated_from_the_machine() -> None:
    assert diagram.main(["--check"]) == 0, "docs/lifecycle.md is stale: run `make diagram`"


def test_diagram_names_every_state_and_command_label() -> None:
    from domain import lifecycle as lc

    text = diagram.render()
    for state in lc.LEAF_STATES:
        assert state.split(lc.SEPARATOR)[-1] in text
    for name, _state in {(c, s) for (s, c) in lc.transition_table()}:
        assert lc.COMMANDS[name].label in text
