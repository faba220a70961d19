"""The Campaign aggregate (外呼任务): one event-sourced campaign and its rules.

Each command asks the campaign machine (domain/campaign/machines.py) for the next state,
raising before anything is recorded; the event records the resulting state, so replay
never consults the machine. The rules (calling hours, pacing, retries) are recorded in the
Created event: a dial or retry decision made later reads them from the campaign, never
from a policy file that may have changed since.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.audit import GENESIS
from domain.campaign import machines as m
from domain.campaign import states
from domain.campaign.chained import ChainedEvent, emit
from domain.campaign.defaults import KINDS
from domain.campaign.pacing import CallingHours, Pacing
from domain.campaign.retries import RetryRules
from domain.values import Actor, optional_text, require_choice, require_text

CAMPAIGN_NAMESPACE = uuid.UUID("3b0c8a52-6d4e-4f0a-9c1b-63616d706169")


def campaign_uuid(ref: str) -> UUID:
    """The aggregate id of a campaign or a contact: its reference alone identifies it."""
    return uuid.uuid5(CAMPAIGN_NAMESPACE, ref)


def contact_ref(campaign_ref: str, number: int) -> str:
    """CP20261203A1B2C3-000017: the 17th contact imported into the campaign."""
    return f"{campaign_ref}-{number:06d}"


class Campaign(Aggregate):
    """State is plain data so snapshots serialise."""

    class Event(ChainedEvent):
        pass

    def __init__(self) -> None:
        self.ref = ""
        self.kind = ""
        self.name = ""
        self.message = ""
        self.script: dict[str, Any] | None = None
        self.start_at: datetime | None = None
        self.rules: dict[str, Any] = {}
        self.dept: str | None = None  # the unit that published the list (its flags go back)
        self.sms = ""  # notification/broadcast: the text sent after a connected call
        self.state = states.DRAFT
        self.contacts = 0  # contacts imported (numbered 1..contacts)
        self.imports: list[dict[str, Any]] = []
        self.created_at: datetime | None = None
        self.began_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.pauses: list[dict[str, Any]] = []
        self.reason: str | None = None
        self.chain_head = GENESIS

    # ----- helpers -------------------------------------------------------------------
    def _next(self, trigger: str) -> str:
        return m.next_state(m.CAMPAIGN, f"外呼任务 {self.ref}", self.state, trigger)

    def _emit(self, event_class: type[Any], actor: Actor, at: datetime, **fields: Any) -> None:
        emit(self, event_class, actor, at, **fields)

    @property
    def hours(self) -> CallingHours:
        return CallingHours.parse(self.rules["windows"], bool(self.rules["rest_days"]))

    @property
    def pacing(self) -> Pacing:
        return Pacing(int(self.rules["lines"]), int(self.rules["per_minute"]))

    @property
    def retry_rules(self) -> RetryRules:
        return RetryRules.from_dict(self.rules["retry"])

    @property
    def closed(self) -> bool:
        return self.state in states.CLOSED_CAMPAIGN_STATES

    # ----- create ----------------------------------------------------------------------
    @staticmethod
    def check_rules(hours: CallingHours, pacing: Pacing, retry: RetryRules) -> dict[str, Any]:
        """The rules as recorded (plain data)."""
        return {"windows": hours.as_text(), "rest_days": hours.rest_days,
                "lines": pacing.lines, "per_minute": pacing.per_minute,
                "retry": retry.as_dict()}

    @classmethod
    def create(cls, *, ref: str, kind: str, name: str, message: str,
               script: dict[str, Any] | None, start_at: datetime | None,
               rules: dict[str, Any], actor: Actor, at: datetime,
               dept: str | None = None, sms: str = "") -> Campaign:
        require_choice("kind", kind, KINDS, "外呼类型")
        return cls._create(
            cls.Created, id=campaign_uuid(ref), timestamp=at, ref=ref, kind=kind,
            name=require_text("name", name, "任务名称", 100),
            message=optional_text("message", message, "播报内容") or "",
            script=script, start_at=start_at, rules=rules, dept=dept,
            sms=optional_text("sms", sms, "短信内容", 500) or "",
            actor_role=actor.role, actor_id=actor.id, prev_hash=GENESIS)

    class Created(Event, Aggregate.Created):
        ref: str
        kind: str
        name: str
        message: str
        script: dict[str, Any] | None
        start_at: datetime | None
        rules: dict[str, Any]
        dept: str | None  # absent from campaigns created before publishers were recorded
        sms: str  # absent from campaigns created before text messages

        def apply(self, campaign: Campaign) -> None:
            for name in ("ref", "kind", "name", "message", "script", "start_at", "rules"):
                setattr(campaign, name, getattr(self, name))
            campaign.dept = self.__dict__.get("dept")
            campaign.sms = self.__dict__.get("sms") or ""
            campaign.created_at = self.timestamp

    # ----- contacts --------------------------------------------------------------------
    def record_import(self, *, import_no: int, count: int, rejected: int, source: str,
                      sha256: str, actor: Actor, at: datetime) -> None:
        self._next("import_contacts")
        self._emit(self.ContactsImported, actor, at, import_no=import_no,
                   first=self.contacts + 1, count=count, rejected=rejected, source=source,
                   sha256=sha256)

    class ContactsImported(Event):
        """Contacts first..first+count-1 were imported (their own Imported events carry
        them); `source` is the file name, `sha256` its content's digest."""

        import_no: int
        first: int
        count: int
        rejected: int
        source: str
        sha256: str

        def apply(self, campaign: Campaign) -> None:
            campaign.contacts = self.first + self.count - 1
            campaign.imports.append({"import_no": self.import_no, "first": self.first,
                                     "count": self.count, "rejected": self.rejected,
                                     "source": self.source, "sha256": self.sha256,
                                     "at": self.timestamp.isoformat()})

    # ----- lifecycle -------------------------------------------------------------------
    def schedule(self, *, start_at: datetime, actor: Actor, at: datetime) -> None:
        self._emit(self.Scheduled, actor, at, start_at=start_at, state=self._next("schedule"))

    class Scheduled(Event):
        start_at: datetime
        state: str

        def apply(self, campaign: Campaign) -> None:
            campaign.start_at = self.start_at
            campaign.state = self.state

    def begin(self, *, actor: Actor, at: datetime) -> None:
        self._emit(self.Began, actor, at, state=self._next("begin"))

    class Began(Event):
        state: str

        def apply(self, campaign: Campaign) -> None:
            campaign.began_at = self.timestamp
            campaign.state = self.state

    def pause(self, *, reason: str, actor: Actor, at: datetime) -> None:
        self._emit(self.Paused, actor, at, state=self._next("pause"),
                   reason=optional_text("reason", reason, "暂停理由") or "")

    class Paused(Event):
        reason: str
        state: str

        def apply(self, campaign: Campaign) -> None:
            campaign.pauses.append({"paused_at": self.timestamp.isoformat(),
                                    "reason": self.reason, "resumed_at": None})
            campaign.state = self.state

    def resume(self, *, actor: Actor, at: datetime) -> None:
        self._emit(self.Resumed, actor, at, state=self._next("resume"))

    class Resumed(Event):
        state: str

        def apply(self, campaign: Campaign) -> None:
            if campaign.pauses:
                campaign.pauses[-1]["resumed_at"] = self.timestamp.isoformat()
            campaign.state = self.state

    def complete(self, *, actor: Actor, at: datetime) -> None:
        self._emit(self.Completed, actor, at, state=self._next("complete"))

    class Completed(Event):
        state: str

        def apply(self, campaign: Campaign) -> None:
            campaign.closed_at = self.timestamp
            campaign.state = self.state

    def cancel(self, *, reason: str, actor: Actor, at: datetime) -> None:
        self._emit(self.Cancelled, actor, at, state=self._next("cancel"),
                   reason=require_text("reason", reason, "取消理由"))

    class Cancelled(Event):
        reason: str
        state: str

        def apply(self, campaign: Campaign) -> None:
            campaign.closed_at = self.timestamp
            campaign.reason = self.reason
            campaign.state = self.state
