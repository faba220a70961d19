"""Fixtures of the BDD suite: the World, and every step definition made visible here."""

from __future__ import annotations

import pytest

from adapters.bootstrap import Engine
from tests.bdd.steps import STEP_MODULES
from tests.bdd.world import SettableClock, World

# pytest-bdd registers each step as a fixture in the module that declared it; hoist
# them here so every test module under tests/bdd sees every step.
for _module in STEP_MODULES:
    for _name, _value in vars(_module).items():
        if _name.startswith("pytestbdd_stepdef_"):
            globals()[_name] = _value


@pytest.fixture
def world(sqlite_engine: Engine, clock: SettableClock) -> World:
    """A fresh engine on a SQLite file in tmp_path, with the simulation clock.

    The provisional horizon is pinned to 2027 (as on the wall clock of December 2026), so
    the scenarios about a provisional next year and a refused year after it do not age."""
    sqlite_engine.service.horizon = lambda: 2027
    sqlite_engine.service.refresh_calendar()
    return World(sqlite_engine, clock)
