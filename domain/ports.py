"""Ports: what the application service needs from the outside world (adapters implement them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class StagedWrite(Protocol):
    """A side-table write that commits in the same transaction as the events it goes with
    (so intake is one transaction: its ticket number, its citizen key and its event)."""

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        """SQL with `?` placeholders and its parameters."""
        ...

    def committed(self) -> None:
        """Called once the transaction has committed (e.g. to cache what it stored)."""
        ...


class TicketNumbers(Protocol):
    """Daily sequence numbers, shared by every process writing to the same store."""

    def reserve(self, day: date, after: int = 0) -> tuple[int, StagedWrite]:
        """The next free number of ``day`` (greater than ``after``) and the write that
        consumes it; a number is used up only when that write commits."""
        ...

    def release(self, write: Any, taken: bool) -> None:
        """The reservation `write` ended without committing; `taken`: another writer
        stored an order under that number. An untaken number is handed out again."""
        ...


@dataclass(frozen=True)
class PersonalData:
    name: str
    phone: str


class PersonalDataVault(Protocol):
    """One key per citizen; deleting the key erases the citizen from every event (crypto-shredding)."""

    def seal(self, data: PersonalData) -> tuple[str, str, StagedWrite | None]:
        """Return (citizen_id, encrypted token, the write that stores a new citizen's key,
        or None for a citizen the vault already knows)."""
        ...

    def open(self, citizen_id: str, token: str) -> PersonalData | None:
        """The personal data, or None when the citizen's key was erased."""
        ...


@dataclass(frozen=True)
class Department:
    name: str
    region: str
    supervisor: str | None
    duty_phone: str
    token: str = ""


class DepartmentDirectory(Protocol):
    def get(self, name: str) -> Department:
        """The unit, or UnknownDepartment."""
        ...

    def all(self) -> list[Department]: ...
