"""What the campaign's aggregates share with the work order: every event names who acted
and carries the hash of its predecessor (domain/audit.py), so `rexian verify` checks their
streams like an order's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.audit import event_hash
from domain.lean_events import LeanEvents
from domain.values import Actor


class ChainedEvent(Aggregate.Event, metaclass=LeanEvents):
    actor_role: str
    actor_id: str
    prev_hash: str

    def mutate(self, aggregate: Any) -> Any:
        aggregate = super().mutate(aggregate)
        aggregate.chain_head = event_hash(self)
        return aggregate


def emit(aggregate: Any, event_class: type[Any], actor: Actor, at: datetime,
         **fields: Any) -> None:
    """Trigger `event_class` on `aggregate`, chained to its last event."""
    aggregate.trigger_event(event_class, timestamp=at, actor_role=actor.role,
                            actor_id=actor.id, prev_hash=aggregate.chain_head, **fields)
