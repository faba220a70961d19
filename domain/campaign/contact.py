"""The Contact aggregate (外呼对象): one citizen of one campaign and every call to them.

Its machine (domain/campaign/machines.py CONTACT): 待呼 → 呼叫中 → the outcome (已接通 /
未接通 / 忙 / 空号 / 停机 / 关机 / 拒接) → 待重试 or 已完成. The retry decision is taken by
the campaign's RetryRules when the outcome is recorded and written into the event with
its instant (retry_after), so replay and the scheduler never recompute it.

A dial is a claim with an expiry (`lease_until`, recorded in Dialled): the dialler that
recorded it owns the call until then. A call with no outcome when its lease has expired
belongs to a dialler that died (kill -9, power loss): it is resolved as 未接通 with the
detail "interrupted" and retried under the same shared budget (the phone may have rung,
so the attempt counts). A call the gateway never took (unreachable, refused the request)
is abandoned instead: nobody was called, the attempt is not spent.

Name, phone and template variables live only in `personal`, one token sealed in the
personal-data vault under the citizen's key (like a caller's), so erasing the citizen
shreds them here too. Nothing personal is in any other field.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from domain.audit import GENESIS
from domain.campaign import machines as m
from domain.campaign import states
from domain.campaign.campaign import campaign_uuid, contact_ref
from domain.campaign.chained import ChainedEvent, emit
from domain.campaign.retries import RetryRules
from domain.errors import InvalidInput
from domain.phone import mask_phone
from domain.pii import redact
from domain.values import Actor, require_choice


def masked(text: str) -> str:
    """Free text the citizen said, its personal data (phones, ID numbers…) masked."""
    return redact(text).text if text else ""


class Contact(Aggregate):
    class Event(ChainedEvent):
        pass

    def __init__(self) -> None:
        self.ref = ""
        self.campaign_ref = ""
        self.number = 0
        self.import_no = 0
        self.citizen_id = ""
        self.personal = ""
        self.state = states.WAITING
        self.attempts = 0  # dials so far
        self.retries_used = 0  # dials after the first: ONE budget across outcomes
        self.retry_after: datetime | None = None
        self.dialled_at: datetime | None = None
        self.call_id: str | None = None
        self.lease_until: datetime | None = None
        self.outcomes: list[dict[str, Any]] = []
        self.flag: str | None = None
        self.finished_reason: str | None = None
        # What the calls said and heard (domain/campaign/dialogue.py), in order.
        self.said: list[dict[str, Any]] = []
        self.answers: dict[str, str] = {}  # question id -> answer label (or 未识别)
        self.heard: bool | None = None  # notification: the citizen confirmed hearing it
        self.handoff: dict[str, Any] | None = None
        self.work_orders: list[str] = []
        self.sms: list[dict[str, str]] = []
        self.chain_head = GENESIS

    def _next(self, trigger: str, state: str | None = None) -> str:
        return m.next_state(m.CONTACT, f"外呼对象 {self.ref}", state or self.state, trigger)

    def _emit(self, event_class: type[Any], actor: Actor, at: datetime, **fields: Any) -> None:
        emit(self, event_class, actor, at, **fields)

    @property
    def closed(self) -> bool:
        return self.state == states.DONE

    # ----- import ----------------------------------------------------------------------
    @classmethod
    def enrol(cls, *, campaign_ref: str, number: int, import_no: int, citizen_id: str,
              personal: str, actor: Actor, at: datetime) -> Contact:
        ref = contact_ref(campaign_ref, number)
        return cls._create(cls.Imported, id=campaign_uuid(ref), timestamp=at, ref=ref,
                           campaign_ref=campaign_ref, number=number, import_no=import_no,
                           citizen_id=citizen_id, personal=personal, actor_role=actor.role,
                           actor_id=actor.id, prev_hash=GENESIS)

    class Imported(Event, Aggregate.Created):
        ref: str
        campaign_ref: str
        number: int
        import_no: int
        citizen_id: str
        personal: str  # the only place the contact's name, phone and variables live

        def apply(self, contact: Contact) -> None:
            for name in ("ref", "campaign_ref", "number", "import_no", "citizen_id",
                         "personal"):
                setattr(contact, name, getattr(self, name))

    # ----- calls -----------------------------------------------------------------------
    def dial(self, *, attempt: int, call_id: str, lease_until: datetime, actor: Actor,
             at: datetime) -> None:
        """Start attempt number `attempt`, claimed until `lease_until`: refused unless it
        is exactly the next one and its retry instant has come (so no attempt is ever
        dialled twice; two diallers racing for it collide on the stream's version)."""
        state = self._next("dial")
        if attempt != self.attempts + 1:
            raise InvalidInput("attempt", f"外呼对象 {self.ref} 的下一次呼叫是第 {self.attempts + 1} 次，"
                               f"不是第 {attempt} 次",
                               f"contact {self.ref}'s next call is attempt {self.attempts + 1}, "
                               f"not {attempt}")
        if self.retry_after is not None and at < self.retry_after:
            raise InvalidInput("retry_after", f"外呼对象 {self.ref} 须在 {self.retry_after.isoformat()} "
                               "之后重呼", f"contact {self.ref} may be called again only from "
                               f"{self.retry_after.isoformat()}")
        if lease_until <= at:
            raise InvalidInput("lease", "呼叫占用期限须晚于拨号时间", "a call's lease must end after its dial")
        self._emit(self.Dialled, actor, at, attempt=attempt, call_id=call_id,
                   lease_until=lease_until, state=state)

    class Dialled(Event):
        attempt: int
        call_id: str
        lease_until: datetime  # absent from dials recorded before leases existed
        state: str

        def apply(self, contact: Contact) -> None:
            contact.attempts = self.attempt
            contact.retries_used = self.attempt - 1
            contact.dialled_at = self.timestamp
            contact.call_id = self.call_id
            contact.lease_until = getattr(self, "lease_until", None)
            contact.retry_after = None
            contact.state = self.state

    def lease_expired(self, at: datetime, default_lease: timedelta) -> bool:
        """Is this a call in progress whose claim has run out at `at`?"""
        if self.state != states.CALLING or self.dialled_at is None:
            return False
        until = self.lease_until or self.dialled_at + default_lease
        return until <= at

    def abandon(self, *, call_id: str, reason: str, retry_after: datetime, actor: Actor,
                at: datetime) -> None:
        """The gateway never took call `call_id`: the attempt is given back (not counted
        in the budget) and the contact is due again at `retry_after`."""
        self.check_call(call_id)
        state = self._next("abandon")
        self._emit(self.Abandoned, actor, at, attempt=self.attempts, call_id=call_id,
                   reason=reason, retry_after=retry_after, state=state)

    class Abandoned(Event):
        attempt: int  # the attempt given back: the next dial is this one again
        call_id: str
        reason: str
        retry_after: datetime
        state: str

        def apply(self, contact: Contact) -> None:
            contact.attempts = self.attempt - 1
            contact.retries_used = max(0, self.attempt - 2)
            contact.retry_after = self.retry_after
            contact.state = self.state

    def record_outcome(self, *, call_id: str, outcome: str, rules: RetryRules, actor: Actor,
                       at: datetime, detail: str = "") -> None:
        """The call `call_id` ended in `outcome`; then retried or finished by `rules`."""
        require_choice("outcome", outcome, states.OUTCOMES, "呼叫结果")
        self.check_call(call_id)
        ended = self._next(states.TRIGGER_OF_OUTCOME[outcome])
        decision = rules.decide(outcome, self.retries_used, at)
        if decision.retry_after is not None:
            after = self._next("schedule_retry", ended)
        else:
            after = self._next("finish", ended)
        self._emit(self.CallEnded, actor, at, attempt=self.attempts, call_id=call_id,
                   outcome=outcome, detail=detail, state=ended)
        if decision.retry_after is not None:
            self._emit(self.RetryScheduled, actor, at, retry_after=decision.retry_after,
                       reason=decision.reason, state=after)
        else:
            self._emit(self.Finished, actor, at, flag=decision.flag, reason=decision.reason,
                       state=after)

    class CallEnded(Event):
        attempt: int
        call_id: str
        outcome: str
        detail: str  # e.g. the gateway's SIP/Q.850 cause or the announcement heard
        state: str

        def apply(self, contact: Contact) -> None:
            contact.outcomes.append({"attempt": self.attempt, "outcome": self.outcome,
                                     "at": self.timestamp.isoformat(), "detail": self.detail})
            contact.state = self.state

    # ----- what a connected call said and heard -------------------------------------------
    def check_call(self, call_id: str) -> None:
        """Refused unless `call_id` is the call in progress."""
        if call_id != self.call_id or self.state != states.CALLING:
            raise InvalidInput("call_id", f"外呼对象 {self.ref} 没有进行中的呼叫 {call_id}",
                               f"contact {self.ref} has no call {call_id} in progress")

    def say(self, *, call_id: str, kind: str, text: str, template: bool, actor: Actor,
            at: datetime) -> None:
        """A sentence the robot said (`template`: the campaign message as written, which
        the contact's own variables render)."""
        self.check_call(call_id)
        self._emit(self.Said, actor, at, call_id=call_id, kind=kind, text=text,
                   template=template)

    class Said(Event):
        call_id: str
        kind: str
        text: str
        template: bool

        def apply(self, contact: Contact) -> None:
            contact.said.append({"call_id": self.call_id, "kind": self.kind,
                                 "text": self.text, "template": self.template})

    def answer(self, *, call_id: str, question: str, answer: str, transcript: str,
               actor: Actor, at: datetime) -> None:
        """A survey answer: the answer label (or 未识别) and the citizen's words, masked."""
        self.check_call(call_id)
        self._emit(self.Answered, actor, at, call_id=call_id, question=question,
                   answer=answer, transcript=masked(transcript))

    class Answered(Event):
        call_id: str
        question: str  # the question id
        answer: str  # the answer label, or 未识别
        transcript: str  # personal data masked

        def apply(self, contact: Contact) -> None:
            contact.answers[self.question] = self.answer

    def confirm(self, *, call_id: str, heard: bool, answer: str, transcript: str,
                repeats: int, actor: Actor, at: datetime) -> None:
        self.check_call(call_id)
        self._emit(self.Confirmed, actor, at, call_id=call_id, heard=heard, answer=answer,
                   transcript=masked(transcript), repeats=repeats)

    class Confirmed(Event):
        """A notification's 听清楚了吗: heard or not, the last reply, the repeats asked."""

        call_id: str
        heard: bool
        answer: str
        transcript: str
        repeats: int

        def apply(self, contact: Contact) -> None:
            contact.heard = self.heard

    def hand_off(self, *, call_id: str, reason: str, context: dict[str, str],
                 transcript: str, actor: Actor, at: datetime) -> None:
        self.check_call(call_id)
        self._emit(self.HandedOff, actor, at, call_id=call_id, reason=reason,
                   context=context, transcript=masked(transcript))

    class HandedOff(Event):
        """Handed to a person: why, the contact's context (campaign, its name and kind, the
        message as written), what the citizen said (masked)."""

        call_id: str
        reason: str
        context: dict[str, str]
        transcript: str

        def apply(self, contact: Contact) -> None:
            contact.handoff = {"call_id": self.call_id, "reason": self.reason,
                               "context": self.context, "transcript": self.transcript,
                               "at": self.timestamp.isoformat()}

    def sms_sent(self, *, call_id: str, phone: str, message: str, actor: Actor,
                 at: datetime) -> None:
        self._emit(self.SmsSent, actor, at, call_id=call_id, phone=mask_phone(phone),
                   message=message)

    class SmsSent(Event):
        call_id: str
        phone: str  # masked
        message: str  # the SMS gateway's id

        def apply(self, contact: Contact) -> None:
            contact.sms.append({"call_id": self.call_id, "phone": self.phone,
                                "message": self.message})

    def work_order_opened(self, *, call_id: str, question: str, answer: str, ticket_no: str,
                          actor: Actor, at: datetime) -> None:
        self._emit(self.WorkOrderOpened, actor, at, call_id=call_id, question=question,
                   answer=answer, ticket_no=ticket_no)

    class WorkOrderOpened(Event):
        """A [[work_orders]] rule matched an answer: the order opened (channel 外呼)."""

        call_id: str
        question: str
        answer: str
        ticket_no: str

        def apply(self, contact: Contact) -> None:
            contact.work_orders.append(self.ticket_no)

    class RetryScheduled(Event):
        retry_after: datetime
        reason: str
        state: str

        def apply(self, contact: Contact) -> None:
            contact.retry_after = self.retry_after
            contact.state = self.state

    class Finished(Event):
        flag: str | None
        reason: str
        state: str

        def apply(self, contact: Contact) -> None:
            contact.flag = self.flag
            contact.finished_reason = self.reason
            contact.state = self.state
