"""Ports: what the application service needs from the outside world (adapters implement them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class TicketNumbers(Protocol):
    """Daily sequence numbers, shared by every process writing to the same store."""

    def next_number(self, day: date) -> int: ...

    def skip_past(self, day: date, number: int) -> None: ...


@dataclass(frozen=True)
class PersonalData:
    name: str
    phone: str


class PersonalDataVault(Protocol):
    """One key per citizen; deleting the key erases the citizen from every event (crypto-shredding)."""

    def seal(self, data: PersonalData) -> tuple[str, str]:
        """Return (citizen_id, encrypted token)."""
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
