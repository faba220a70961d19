"""Shared fixtures. Infrastructure fixtures are session-scoped and lazy: pytest only
starts PostgreSQL or the Kafka broker when some selected test asks for them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.bootstrap import Engine, build_engine
from domain.service import SHANGHAI
from tests.support.kafka import TansuBroker
from tests.support.postgres import ThrowawayPostgres


def pytest_configure(config: pytest.Config) -> None:
    # One key-encryption key for the session's stores (and the CLIs they spawn), never the
    # developer's ./var/rexian.kek.
    os.environ["REXIAN_KEK_FILE"] = str(Path(tempfile.mkdtemp(prefix="rexian-kek-")) / "test.kek")
    # kafka-python 3.0 loads its protocol schemas with the legacy importlib.resources
    # API: ~200 DeprecationWarnings per session that are not ours to fix.
    config.addinivalue_line(
        "filterwarnings", "ignore:read_text is deprecated:DeprecationWarning:kafka"
    )
    config.addinivalue_line(
        "filterwarnings",
        "ignore:open_text is deprecated:DeprecationWarning:importlib.resources._legacy",
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """One throwaway cluster per session; use `postgres.create_database(...)` to isolate."""
    with ThrowawayPostgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[TansuBroker]:
    """One in-memory Tansu broker per session; isolate tests by unique topic/group names."""
    with TansuBroker() as broker:
        yield broker


_db_counter = iter(range(1, 1_000_000))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store URL; tests using it run once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "rexian.db")
    pg: ThrowawayPostgres = request.getfixturevalue("postgres")
    return pg.create_database(f"t{next(_db_counter)}_{os.getpid()}")


class SimClock:
    """A settable clock for tests (the engine's simulation clock)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        value = datetime.fromisoformat(text)
        self.now = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
def engine(db_url: str, clock: SimClock) -> Iterator[Engine]:
    """The real engine (service, vault, projections) on SQLite and on PostgreSQL."""
    built = build_engine(db_url, clock=clock)
    yield built
    built.close()


@pytest.fixture
def sqlite_engine(tmp_path: Path, clock: SimClock) -> Iterator[Engine]:
    """The real engine on a SQLite file only (for tests that edit the file directly)."""
    built = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield built
    built.close()
