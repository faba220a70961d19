"""An inbound call's dialogue on the engine: open it (routing first), hear each turn
(understanding.py), do the step (domain/inbound/dialogue.py), and record everything in the
call's record (domain/inbound/call.py) in one commit per turn: what was heard, what was
said, a hand-off with its draft, a transfer, a registration. The media robot and the text
drill both run calls through this desk, so what a caller hears is what the record says."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from adapters.inbound import phrases
from adapters.inbound.understanding import understand
from adapters.kb import kb_desk
from adapters.sms import LoggingSms
from domain.errors import DomainError, InvalidInput, UnknownTicket, shown
from domain.histories import aggregate_history
from domain.inbound.call import InboundCall, call_id
from domain.inbound.dialogue import Heard, InboundDialogue, Step
from domain.inbound.routing import InboundRules
from domain.phone import normalize_phone
from domain.ports import SmsSender
from domain.values import Actor

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

ROBOT = Actor("robot", "inbound")
CALL_REF = "call:"  # `rexian history call:ID` is an inbound call's record
ANONYMOUS = "匿名来电人"  # the name of an order the robot registers (the caller gave none)


@dataclass
class Reply:
    """What the robot says now (in order), whether it listens next, and how the call ends."""
    said: list[str]
    listen: bool
    step: Step
    ended: bool = False
    citation: str | None = None
    ticket_no: str | None = None
    sms_message: str | None = None


@dataclass
class _Call:
    record: InboundCall
    dialogue: InboundDialogue
    lock: threading.Lock = field(default_factory=threading.Lock)
    ticket_no: str | None = None  # the order the robot registered in this call


def closest_own_order(engine: Engine, citizen: str | None, heard: str) -> str | None:
    """The citizen's order whose number is nearest `heard` (at most 2 digits apart, and
    unambiguous), or None. Only the caller's own orders are candidates."""
    if citizen is None:
        return None
    from projections.citizen_orders import CitizenOrderLookup

    numbers = CitizenOrderLookup(engine.runners["citizen_orders"], engine.db).orders_of(citizen)
    ranked = sorted((edit_distance(heard, n), n) for n in numbers)
    if not ranked or ranked[0][0] > 2 or (len(ranked) > 1 and ranked[1][0] == ranked[0][0]):
        return None
    return ranked[0][1]


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def streets_of(engine: Engine) -> tuple[str, ...]:
    """The district's streets and towns, from the units that govern them."""
    names = [d.name for d in engine.departments.all()]
    return tuple(n.removesuffix("办事处").removesuffix("人民政府") for n in names
                 if n.endswith(("街道办事处", "镇人民政府")))


class InboundDesk:
    def __init__(self, engine: Engine, rules: InboundRules | None = None,
                 sms: SmsSender | None = None) -> None:
        self.engine = engine
        self.sms: SmsSender = sms or LoggingSms()
        self.rules = rules or InboundRules.load()
        self.kb = kb_desk(engine)
        self.streets = streets_of(engine)
        self._calls: dict[str, _Call] = {}
        self._lock = threading.Lock()

    def _commit(self, record: InboundCall) -> None:
        self.engine.service._commit(record)

    def start(self, call: str, *, caller: str, line: str) -> Reply:
        """A call comes in on `line` from `caller`: a person at once, or the greeting."""
        if not call or len(call) > 100:
            raise InvalidInput("call", "来电标识不能为空且不超过 100 个字符",
                               "the call id must be 1-100 characters")
        dialled = self.rules.line(line)
        number = normalize_phone(caller) if caller else ""
        now = self.engine.service.now()
        with self._lock:
            if call in self._calls:
                raise InvalidInput("call", f"来电 {shown(call, 40)} 已在进行中",
                                   f"call {shown(call, 40)} is already in progress")
            record = InboundCall.start(call=call, line=dialled.number, caller=number,
                                       actor=ROBOT, at=now)
            dialogue = InboundDialogue(self.rules, dialled, number)
            self._calls[call] = _Call(record, dialogue)
        step = dialogue.open()
        return self._do(self._calls[call], step, None)

    def turn(self, call: str, text: str, *, mandarin: bool = True,
             on: date | None = None) -> Reply:
        """The caller said `text` (a transcript); the robot's next step."""
        live = self._calls.get(call)
        if live is None:
            raise InvalidInput("call", f"没有进行中的来电 {shown(call, 40)}",
                               f"no call {shown(call, 40)} in progress")
        with live.lock:
            heard = understand(text[:2000], live.dialogue, self.kb, streets=self.streets,
                               on=on, mandarin=mandarin)
            step = live.dialogue.next_step(heard)
            return self._do(live, step, heard)

    def hang_up(self, call: str, reason: str = "来电人挂机") -> None:
        live = self._calls.pop(call, None)
        if live is not None and not live.record.ended:
            live.record.end(reason, actor=ROBOT, at=self.engine.service.now())
            self._commit(live.record)

    def record(self, call: str) -> InboundCall:
        found: InboundCall = self.engine.service.repository.get(call_id(call))
        return found

    # ----- doing a step --------------------------------------------------------------------
    def _do(self, live: _Call, step: Step, heard: Heard | None) -> Reply:
        record, now = live.record, self.engine.service.now()
        if heard is not None:
            record.hear(heard.transcript, heard.intent,
                        citation=heard.article.citation if heard.article else None,
                        ticket=heard.ticket, actor=ROBOT, at=now)
        reply = self._reply(live, step)
        step = reply.step  # a step may turn into another (an unknown order: a hand-off)
        for text in reply.said:
            record.say(step.kind, text, citation=reply.citation, actor=ROBOT, at=now)
        if step.kind == "handoff":
            record.hand_off(step.reason, step.priority,
                            asdict(step.draft) if step.draft else None, actor=ROBOT, at=now)
        elif step.kind == "transfer" and step.line is not None:
            record.transfer(step.line.number, step.reason, actor=ROBOT, at=now)
        elif step.kind == "sms" and reply.sms_message and step.article is not None:
            record.sms_sent(step.article.citation, live.dialogue.caller, reply.sms_message,
                            actor=ROBOT, at=now)
        elif step.kind == "register" and reply.ticket_no:
            record.registered(reply.ticket_no, actor=ROBOT, at=now)
        if reply.ended:
            record.end(step.reason or step.kind, actor=ROBOT, at=now)
        self._commit(record)
        if reply.ended or record.ended:
            reply.ended = True
            with self._lock:
                self._calls.pop(record.call, None)
        return reply

    def _reply(self, live: _Call, step: Step) -> Reply:
        if step.kind == "greet":
            return Reply([phrases.GREETING], True, step)
        if step.kind == "answer" and step.article is not None:
            return Reply([phrases.answer(step.article), phrases.ASK_MORE], True, step,
                         citation=step.article.citation)
        if step.kind == "sms" and step.article is not None:
            article = self.kb.valid_article(step.article.key)
            if not live.dialogue.caller or article is None:
                return Reply([phrases.NO_NUMBER, phrases.ASK_MORE], True, step)
            message = self.sms.send(live.dialogue.caller,
                                    f"【12345】{article.title}（{article.citation}）：{article.full_text}")
            return Reply([phrases.sms_sent(step.article), phrases.ASK_MORE], True, step,
                         citation=article.citation, sms_message=message)
        if step.kind == "progress" and step.ticket:
            return self._progress(live, step)
        if step.kind == "register" and step.draft is not None:
            ticket_no = self.engine.service.intake(
                channel="电话", category=step.draft.category, urgency="一般",
                region=step.draft.region, content=step.draft.content,
                caller_name=ANONYMOUS, caller_phone=live.dialogue.caller, actor=ROBOT)
            live.ticket_no = ticket_no
            return Reply([phrases.draft_read_back(step.draft), phrases.registered(ticket_no),
                          phrases.ASK_MORE], True, step, ticket_no=ticket_no)
        if step.kind == "registered_again" and live.ticket_no:
            return Reply([phrases.registered_again(live.ticket_no), phrases.ASK_MORE], True,
                         step, ticket_no=live.ticket_no)
        if step.kind == "handoff":
            return Reply([phrases.HANDOFF], False, step, ended=True)
        if step.kind == "transfer" and step.line is not None:
            return Reply([phrases.transfer(step.line.name)], False, step, ended=True)
        if step.kind == "reask":
            return Reply([phrases.REASK], True, step)
        return Reply([phrases.GOODBYE], False, step, ended=True)

    def _progress(self, live: _Call, step: Step) -> Reply:
        """Read an order's state back, only to the number that registered it."""
        from adapters.telephony.dialler import engine_progress

        assert step.ticket is not None
        caller = live.dialogue.caller
        citizen = self.engine.vault.find(caller) if caller else None
        ticket = step.ticket
        try:
            order = self.engine.service.load(ticket)
        except (UnknownTicket, DomainError):
            # Recognisers drop repeated digits (…0001 heard as …01): the caller's own order
            # whose number is closest to what was heard, if one is close enough.
            ticket = closest_own_order(self.engine, citizen, ticket) or ""
            if not ticket:
                return Reply([phrases.NOT_FOUND], False,
                             Step("handoff", reason="工单号未查到"), ended=True)
            order = self.engine.service.load(ticket)
        if citizen is None or citizen != order.citizen_id:
            return Reply([phrases.NOT_YOURS, phrases.ASK_MORE], True, step)
        info = engine_progress(self.engine)(ticket)
        assert info is not None
        state = info.state.replace("_", "，")
        return Reply([phrases.progress(ticket, state, info.expected), phrases.ASK_MORE],
                     True, step)

    def history(self, call: str, as_of: datetime | None = None) -> dict[str, Any]:
        """A call's record as it was at `as_of` and every event up to then."""
        try:
            self.record(call)
        except AggregateNotFoundError:
            raise InvalidInput("call", f"没有来电记录 {shown(call, 40)}",
                               f"no inbound call {shown(call, 40)}") from None
        return aggregate_history(self.engine.service, call_id(call), f"{CALL_REF}{call}", as_of,
                                 lambda r: {"call": r.call, "line": r.line, "caller": r.caller,
                                            "outcome": r.outcome, "ended": r.ended,
                                            "version": r.version})

    def summary(self, call: str) -> dict[str, Any]:
        record = self.record(call)
        return {"call": record.call, "line": record.line, "caller": record.caller,
                "outcome": record.outcome, "ended": record.ended, "turns": record.turns,
                "version": record.version}


def inbound_desk(engine: Engine) -> InboundDesk:
    found: InboundDesk | None = getattr(engine, "_inbound_desk", None)
    if found is None:
        found = InboundDesk(engine)
        engine._inbound_desk = found  # type: ignore[attr-defined]
    return found

