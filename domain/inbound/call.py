"""The record of one inbound call: every turn heard (transcript with personal data masked,
the understood intent), everything the robot said (the exact text, and the article it
cites), hand-offs with the draft and reason, transfers, registrations, the end. What a
caller heard is what these events say was said. Events are chained like a work order's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.audit import GENESIS
from domain.campaign.chained import ChainedEvent, emit
from domain.errors import InvalidInput
from domain.phone import mask_phone
from domain.pii import redact
from domain.values import Actor

CALL_NAMESPACE = uuid.UUID("2f0d7c4e-6a1b-4c55-9e0a-696e626f756e")


def call_id(call: str) -> UUID:
    return uuid.uuid5(CALL_NAMESPACE, f"inbound-call:{call}")


def masked(text: str) -> str:
    return redact(text).text


class InboundCall(Aggregate):
    class Event(ChainedEvent):
        pass

    def __init__(self) -> None:
        self.call = ""
        self.line = ""
        self.caller = ""  # masked
        self.turns: list[dict[str, Any]] = []  # what was heard and said, in order
        self.outcome = ""  # 转人工, 转线路, 已登记, 已结束 once ended
        self.ended = False
        self.chain_head = GENESIS

    class Started(Event, Aggregate.Created):
        call: str
        line: str
        caller: str

        def apply(self, record: InboundCall) -> None:
            record.call, record.line, record.caller = self.call, self.line, self.caller

    class Heard(Event):
        transcript: str
        intent: str
        citation: str | None
        ticket: str | None

        def apply(self, record: InboundCall) -> None:
            record.turns.append({"heard": self.transcript, "intent": self.intent,
                                 "citation": self.citation, "ticket": self.ticket})

    class Said(Event):
        kind: str
        text: str
        citation: str | None

        def apply(self, record: InboundCall) -> None:
            record.turns.append({"said": self.text, "kind": self.kind,
                                 "citation": self.citation})

    class HandedOff(Event):
        reason: str
        priority: int
        draft: dict[str, str] | None
        transcript: str

        def apply(self, record: InboundCall) -> None:
            record.outcome, record.ended = "转人工", True

    class SmsSent(Event):
        citation: str
        phone: str  # masked
        message: str  # the SMS gateway's id

        def apply(self, record: InboundCall) -> None:
            record.turns.append({"sms": self.citation, "message": self.message})

    class Transferred(Event):
        line_to: str
        reason: str

        def apply(self, record: InboundCall) -> None:
            record.outcome, record.ended = "转线路", True

    class Registered(Event):
        ticket_no: str

        def apply(self, record: InboundCall) -> None:
            record.outcome = "已登记"

    class Ended(Event):
        reason: str

        def apply(self, record: InboundCall) -> None:
            record.ended = True
            record.outcome = record.outcome or "已结束"

    @classmethod
    def start(cls, *, call: str, line: str, caller: str, actor: Actor, at: datetime
              ) -> InboundCall:
        return cls._create(cls.Started, id=call_id(call), timestamp=at, call=call, line=line,
                           caller=mask_phone(caller) if caller else "", actor_role=actor.role,
                           actor_id=actor.id, prev_hash=GENESIS)

    def _open(self) -> None:
        if self.ended:
            raise InvalidInput("call", f"来电 {self.call} 已结束", f"call {self.call} has ended")

    def hear(self, transcript: str, intent: str, *, citation: str | None = None,
             ticket: str | None = None, actor: Actor, at: datetime) -> None:
        self._open()
        emit(self, self.Heard, actor, at, transcript=masked(transcript), intent=intent,
             citation=citation, ticket=ticket)

    def say(self, kind: str, text: str, *, citation: str | None = None, actor: Actor,
            at: datetime) -> None:
        self._open()
        emit(self, self.Said, actor, at, kind=kind, text=text, citation=citation)

    def hand_off(self, reason: str, priority: int, draft: dict[str, str] | None, *,
                 actor: Actor, at: datetime) -> None:
        self._open()
        heard = "；".join(t["heard"] for t in self.turns if "heard" in t)
        emit(self, self.HandedOff, actor, at, reason=reason, priority=priority,
             draft={k: masked(v) for k, v in draft.items()} if draft else None,
             transcript=heard)

    def sms_sent(self, citation: str, phone: str, message: str, *, actor: Actor,
                 at: datetime) -> None:
        self._open()
        emit(self, self.SmsSent, actor, at, citation=citation, phone=mask_phone(phone),
             message=message)

    def transfer(self, line_to: str, reason: str, *, actor: Actor, at: datetime) -> None:
        self._open()
        emit(self, self.Transferred, actor, at, line_to=line_to, reason=reason)

    def registered(self, ticket_no: str, *, actor: Actor, at: datetime) -> None:
        self._open()
        emit(self, self.Registered, actor, at, ticket_no=ticket_no)

    def end(self, reason: str, *, actor: Actor, at: datetime) -> None:
        if not self.ended:
            emit(self, self.Ended, actor, at, reason=reason)

    def said(self) -> list[str]:
        """Every sentence the robot said, in order (what the caller heard)."""
        return [t["said"] for t in self.turns if "said" in t]
