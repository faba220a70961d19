"""The access log: who read or revealed what, when and why, and who was refused.

Each entry is an aggregate of one event, so it is stored, and sealed in the audit ledger's
hash chain, like every work-order event: `verify` checks it, nothing can edit or drop an
entry unnoticed, and nothing but a new entry is ever written (append-only).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from eventsourcing.domain import Aggregate

from domain.lean_events import LeanEvents
from domain.values import Actor

# What was done.
REVEAL: Final = "reveal"  # unmasked personal data shown (a reason is required)
HISTORY: Final = "history"  # an order's history read by an auditor
AS_OF: Final = "as_of"  # an order as of a past moment, read by an auditor
REFUSED: Final = "refused"  # a request the role may not make, or a bad credential

# What it was done to.
TARGET_ORDER: Final = "order"
TARGET_CITIZEN: Final = "citizen"
TARGET_NONE: Final = "none"


class AccessEntry(Aggregate):
    def __init__(self) -> None:
        self.action = ""
        self.operation = ""
        self.target_kind = ""
        self.target = ""
        self.reason = ""
        self.detail = ""
        self.via = ""

    class Event(Aggregate.Event, metaclass=LeanEvents):
        actor_role: str
        actor_id: str

    class Recorded(Event, Aggregate.Created):
        action: str
        operation: str
        target_kind: str
        target: str
        reason: str
        detail: str
        via: str

        def apply(self, entry: AccessEntry) -> None:
            for name in ("action", "operation", "target_kind", "target", "reason", "detail",
                         "via"):
                setattr(entry, name, getattr(self, name))

    @classmethod
    def record(cls, *, action: str, operation: str, target_kind: str, target: str,
               reason: str, detail: str, via: str, actor: Actor, at: datetime
               ) -> AccessEntry:
        return cls._create(cls.Recorded, id=uuid.uuid4(), timestamp=at,
                           actor_role=actor.role, actor_id=actor.id, action=action,
                           operation=operation, target_kind=target_kind, target=target,
                           reason=reason, detail=detail, via=via)
