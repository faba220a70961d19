"""The MassComplaintAlert aggregate (群诉预警): one cluster of similar orders from several
citizens in one area, recorded once and updated as the cluster grows.

Its id is derived from its reference, QS + the ticket number of the order that brought the
cluster to K citizens: the same evidence always names the same alert, so examining an order
twice (a retry, a second process, a rebuilt read model) finds the alert already recorded,
and an order already a member adds nothing. Events carry ticket numbers and counts, never a
citizen's id: the alert holds no personal data and survives erasure unchanged.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.audit import GENESIS
from domain.campaign.chained import ChainedEvent, emit
from domain.values import Actor

ALERT_NAMESPACE = uuid.UUID("0c4f5e1a-2b3d-4e6f-8a9b-717573686f75")
ALERT_PREFIX = "QS"  # 群诉
DETECTOR = Actor("system", "mass-complaint-detector")
ACTIVE = "预警中"


def alert_ref(seed_ticket: str) -> str:
    return f"{ALERT_PREFIX}{seed_ticket}"


def alert_uuid(ref: str) -> UUID:
    return uuid.uuid5(ALERT_NAMESPACE, ref)


def is_alert_ref(ref: str) -> bool:
    """QS202612030005: as `history` tells an alert from a ticket number."""
    return ref.startswith(ALERT_PREFIX) and ref[len(ALERT_PREFIX):].isdigit()


class MassComplaintAlert(Aggregate):
    """State is plain data so snapshots serialise."""

    class Event(ChainedEvent):
        pass

    def __init__(self) -> None:
        self.ref = ""
        self.area = ""
        self.state = ACTIVE
        self.members: list[str] = []
        self.citizens = 0
        self.notify: dict[str, str] = {}
        self.rules: dict[str, Any] = {}
        self.summary = ""
        self.raised_at: datetime | None = None
        self.updated_at: datetime | None = None
        self.chain_head = GENESIS

    @classmethod
    def raise_alert(cls, *, ref: str, area: str, members: list[str], citizens: int,
                    notify: dict[str, str], rules: dict[str, Any], summary: str,
                    actor: Actor, at: datetime) -> MassComplaintAlert:
        return cls._create(cls.Raised, id=alert_uuid(ref), timestamp=at, ref=ref, area=area,
                           members=list(members), citizens=citizens, notify=dict(notify),
                           rules=dict(rules), summary=summary, actor_role=actor.role,
                           actor_id=actor.id, prev_hash=GENESIS)

    class Raised(Event, Aggregate.Created):
        ref: str
        area: str
        members: list[str]  # ticket numbers, in intake order
        citizens: int  # distinct citizens among them
        notify: dict[str, str]  # unit -> why it is told (area: 属地单位, supervision: 上级)
        rules: dict[str, Any]  # K, window and threshold the alert was raised under
        summary: str  # the content (masked) of the order that raised it

        def apply(self, alert: MassComplaintAlert) -> None:
            alert.ref, alert.area, alert.summary = self.ref, self.area, self.summary
            alert.members, alert.citizens = list(self.members), self.citizens
            alert.notify, alert.rules = dict(self.notify), dict(self.rules)
            alert.raised_at = alert.updated_at = self.timestamp

    def grow(self, *, ticket_no: str, citizens: int, actor: Actor, at: datetime) -> bool:
        """Add one order to the cluster; False (nothing recorded) when it is a member."""
        if ticket_no in self.members:
            return False
        emit(self, self.Grew, actor, at, ticket_no=ticket_no, members=len(self.members) + 1,
             citizens=max(citizens, self.citizens), notify=dict(self.notify))
        return True

    class Grew(Event):
        ticket_no: str
        members: int
        citizens: int
        notify: dict[str, str]  # the units told again (the feed reads them from the event)

        def apply(self, alert: MassComplaintAlert) -> None:
            alert.members.append(self.ticket_no)
            alert.citizens = self.citizens
            alert.updated_at = self.timestamp

    def view(self) -> dict[str, Any]:
        from domain.views import iso

        return {"alert": self.ref, "area": self.area, "state": self.state,
                "members": list(self.members), "citizens": self.citizens,
                "notify": dict(self.notify), "rules": dict(self.rules),
                "summary": self.summary, "raised_at": iso(self.raised_at),
                "updated_at": iso(self.updated_at)}
