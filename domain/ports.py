"""Ports: what the application service needs from the outside world (adapters implement them)."""

from __future__ import annotations

from collections.abc import Sequence
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
    # Personal data found in the order's free text (domain/pii.py), sealed with the caller's
    # so erasure shreds it too; the recorded text holds only masks.
    extra: tuple[str, ...] = ()


# Why open() gave nothing: the key was shredded (erasure), or the vault cannot unwrap
# keys (no key-encryption key, or the wrong one).
ERASED = "erased"
UNAVAILABLE = "unavailable"


class KeyWrapper(Protocol):
    """The key-encryption key: wraps data keys so the store holds none in clear. A key
    file today (adapters/keys.py); a KMS or HSM client can take its place."""

    @property
    def fingerprint(self) -> str:
        """Names the KEK (recorded in the store) without revealing it."""
        ...

    def wrap(self, key: bytes, context: str) -> str:
        """`key` encrypted under the KEK, bound to `context` (e.g. the citizen id)."""
        ...

    def unwrap(self, wrapped: str, context: str) -> bytes:
        """The key back; ValueError when another KEK wrapped it, or context differs."""
        ...


class PersonalDataVault(Protocol):
    """One key per citizen; deleting the key erases the citizen from every event (crypto-shredding)."""

    def seal(self, data: PersonalData) -> tuple[str, str, StagedWrite | None]:
        """Return (citizen_id, encrypted token, the write that stores a new citizen's key,
        or None for a citizen the vault already knows). PersonalDataUnavailable when the
        vault has no usable key-encryption key."""
        ...

    def open(self, citizen_id: str, token: str) -> PersonalData | None:
        """The personal data, or None when the citizen's key was erased or cannot be
        unwrapped (closed_reason tells which)."""
        ...

    def seal_values(self, citizen_id: str, values: Sequence[str]) -> str | None:
        """`values` (personal data found in a command's free text) sealed with the data key
        of a citizen the vault knows; None when that citizen was erased (the values are
        then dropped: only their masks are recorded). PersonalDataUnavailable without
        the key-encryption key."""
        ...

    def open_values(self, citizen_id: str, token: str) -> tuple[str, ...] | None:
        """What seal_values sealed, or None when the key is shredded or locked away."""
        ...

    def closed_reason(self, citizen_id: str) -> tuple[str, str]:
        """Why open() gave None: (ERASED or UNAVAILABLE, a bilingual note for people)."""
        ...

    def find(self, phone: str) -> str | None:
        """The citizen id of a (normalised) phone number, None when unknown or erased."""
        ...

    def shred(self, citizen_id: str) -> StagedWrite:
        """The write that deletes the citizen's key, committed with the Erased events."""
        ...


class CitizenOrders(Protocol):
    """Which work orders a citizen's personal data is sealed in (a read model)."""

    def orders_of(self, citizen_id: str) -> list[str]:
        """Their ticket numbers, in intake order."""
        ...


@dataclass(frozen=True)
class Department:
    name: str
    region: str
    supervisor: str | None
    duty_phone: str


class DepartmentDirectory(Protocol):
    def get(self, name: str) -> Department:
        """The unit, or UnknownDepartment."""
        ...

    def all(self) -> list[Department]: ...


class SmsSender(Protocol):
    """Text messages to citizens (an article's full text the robot offered)."""

    def send(self, phone: str, text: str) -> str:
        """Send `text` to `phone`; returns the message's id."""
        ...
