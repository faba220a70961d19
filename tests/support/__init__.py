"""Real infrastructure for tests: throwaway PostgreSQL, a Tansu Kafka broker, subprocesses.

No mocks: every helper here starts the real thing on loopback and tears it down.
"""

from tests.support.kafka import TansuBroker
from tests.support.postgres import ThrowawayPostgres
from tests.support.procs import PythonProcess, free_port

__all__ = ["PythonProcess", "TansuBroker", "ThrowawayPostgres", "free_port"]
