"""Shared fixtures. Infrastructure fixtures are session-scoped and lazy: pytest only
starts PostgreSQL or the Kafka broker when some selected test asks for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.kafka import TansuBroker
from tests.support.postgres import ThrowawayPostgres


def pytest_configure(config: pytest.Config) -> None:
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
