"""Personal data in the free text of commands after intake (replies, reasons, comments,
notes, the robot's transcripts): masked before the event is recorded, sealed for the caller.

A command's handler masks each free-text argument through one `FreeText`; when anything
was found, the values go into a TextSealed event on the same order, in the same commit,
sealed with the caller's data key (so erasure shreds them with the rest). Every view,
feed, Kafka record and log line is built from the recorded events, which hold only the
masks (domain/pii.py states what is detected). A reveal puts the values back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.pii import redact
from domain.ports import PersonalDataVault
from domain.values import Actor

if TYPE_CHECKING:
    from domain.workorder import WorkOrder


class FreeText:
    """The personal data masked in one command's texts, in the order it was written."""

    def __init__(self, public: Iterable[str]) -> None:
        self._public = frozenset(public)
        self.values: list[str] = []

    def mask(self, text: str) -> str:
        """`text` with its personal data masked (the values kept for sealing)."""
        if not text:
            return text
        found = redact(text, self._public)
        self.values.extend(found.values)
        return found.text

    def seal(self, order: WorkOrder, vault: PersonalDataVault, actor: Actor,
             at: datetime) -> None:
        """Record what was masked on `order` (nothing when nothing was found, or when the
        caller was erased: then the masks are all that is kept)."""
        if not self.values or order.erased is not None:
            return
        token = vault.seal_values(order.citizen_id, self.values)
        if token is not None:
            order.seal_text(token=token, actor=actor, at=at)


def sealed_values(order: Any, vault: PersonalDataVault) -> list[str]:
    """Every value sealed from the order's free text after intake, oldest first."""
    values: list[str] = []
    for token in getattr(order, "sealed_text", ()):
        values.extend(vault.open_values(order.citizen_id, token) or ())
    return values


def restore_all(texts: Sequence[str | None], values: Sequence[str]) -> list[str | None]:
    """Each text with its masks replaced by the sealed values: every value, oldest first,
    takes the first mask of its own shape still in the text (a value written once may be
    copied into several texts of a view: the callback comment and its supervision order)."""
    from domain.pii import restore

    restored: list[str | None] = []
    for text in texts:
        if text and "*" in text:
            for value in values:
                text = restore(text, [value])
        restored.append(text)
    return restored
