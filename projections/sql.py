"""What the read models need from a database, declared here so projections depend on no
adapter: adapters/sqldb.SqlDatabase and its Cursor satisfy these protocols structurally.

Statements use `?` placeholders; the database behind the protocol translates them for
its dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Rows(Protocol):
    """The result of one statement."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Cursor(Protocol):
    """A cursor inside one transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Rows: ...

    @property
    def rowcount(self) -> int: ...


class Database(Protocol):
    """Transactions for a projection batch and its tracking position."""

    @property
    def postgres(self) -> bool: ...  # row locks (FOR UPDATE) exist only there

    def transaction(self, immediate: bool = ...) -> AbstractContextManager[Cursor]: ...

    # A transaction for CREATE/DROP TABLE, serialised between processes starting at once
    # (PostgreSQL fails concurrent `CREATE TABLE IF NOT EXISTS` of one table).
    def schema_transaction(self) -> AbstractContextManager[Cursor]: ...
