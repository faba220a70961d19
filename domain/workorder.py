"""The WorkOrder aggregate: one event-sourced work order (工单).

Each command validates its input, asks the lifecycle table for the next state
(raising before anything is recorded), then triggers the event declared right
beside it. Events record the outcome (including the resulting state), so replay
rebuilds state from events alone and never consults the machine.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.domain import Snapshot as BaseSnapshot

from domain import lifecycle as lc
from domain.audit import GENESIS, event_hash
from domain.campaign.chained import emit
from domain.errors import InvalidInput, NotResponsible
from domain.lean_events import LeanEvents
from domain.policies.clock import (
    Step,
    extend_step,
    handling_step,
    reopen_step,
    resume_step,
)
from domain.values import (
    CALL_OUTCOMES,
    CALLBACK_RESULTS,
    CATEGORIES,
    CHANNELS,
    SATISFIED_RESULTS,
    URGENCIES,
    Actor,
    optional_text,
    require_choice,
    require_text,
)

# Namespace for deterministic aggregate ids: the ticket number alone identifies the order.
TICKET_NAMESPACE = uuid.UUID("6f1d2c1e-5b7a-4c1e-9d5e-72657869616e")
MAX_EXTENSION_DAYS = 30
LADDER_STEPS = ("warning", "level1", "level2", "level3")
LADDER_LEVEL = {"warning": 0, "level1": 1, "level2": 2, "level3": 3}


@lru_cache(maxsize=65536)
def order_id(ticket_no: str) -> UUID:
    # Every command hashes its ticket number (sha1 and a UUID built from it): remembered.
    return uuid.uuid5(TICKET_NAMESPACE, ticket_no)


class WorkOrder(Aggregate):
    """State is plain data (str, int, list, dict, datetime) so snapshots serialise."""

    # v2: clocks keep their recipe and the calendar versions they were computed on;
    # closed orders keep no clock. v3: `erased` (删除权). v4: `sealed_text`.
    class_version = 4

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("clock_recipe", [])
        state.setdefault("calendar", {})
        if state.get("state") not in lc.OPEN_STATES:
            state.update(due_at=None, sign_due_at=None, dispatch_due_at=None, ladder={})

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state.setdefault("erased", None)

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        state.setdefault("sealed_text", [])

    class Event(Aggregate.Event, metaclass=LeanEvents):
        actor_role: str
        actor_id: str
        prev_hash: str

        def mutate(self, aggregate: Any) -> Any:
            before = LadderState() if aggregate is None else LadderState(
                aggregate.ladder, tuple(aggregate.ladder_done), aggregate.plan is not None)
            aggregate = super().mutate(aggregate)
            # The ladder moves by the one rule the deadline index folds too.
            after = fold_ladder(before, self)
            aggregate.ladder, aggregate.ladder_done = dict(after.ladder), list(after.done)
            if not after.has_plan:
                aggregate.plan = None
            # The chain head is hashed when it is next needed (WorkOrder.__getattr__): a
            # replay of N events hashes one, not N (each stored prev_hash already names
            # its predecessor).
            aggregate.__dict__["_chain_tip"] = self
            return aggregate

    class Snapshot(BaseSnapshot):
        """Snapshots hold the hashed chain head, never the event it is hashed from."""

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            aggregate.chain_head  # noqa: B018 - hashes the tip, so the state holds the head
            return super().take(aggregate)

    def __init__(self) -> None:
        self.ticket_no = ""
        self.state = lc.INTAKE
        self.substate: str | None = None
        self.category = ""
        self.urgency = ""
        self.channel = ""
        self.region = ""
        self.content = ""
        self.citizen_id = ""
        self.personal = ""
        self.erased: dict[str, Any] | None = None  # when and why the caller was erased
        # Personal data found in free text after intake (replies, reasons, comments): one
        # token per command, sealed with the caller's key; the recorded text has masks.
        self.sealed_text: list[str] = []
        self.department: str | None = None
        self.assist_departments: list[str] = []
        self.reopen_count = 0
        self.return_count = 0
        self.returns: list[dict[str, Any]] = []
        self.supervision_orders: list[dict[str, Any]] = []
        self.extensions: list[dict[str, Any]] = []
        self.pending_extension: dict[str, Any] | None = None
        self.reply: str | None = None
        self.callback: dict[str, Any] | None = None
        self.flags: list[str] = []
        self.merged_into: str | None = None
        self.duplicates: list[str] = []
        self.transferred_to: dict[str, Any] | None = None
        self.closing_reason: str | None = None
        self.created_at: datetime | None = None
        self.dispatched_at: datetime | None = None
        self.signed_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        # Clocks (set from the deadline policy by the service; recorded in events).
        self.dispatch_due_at: datetime | None = None
        self.sign_due_at: datetime | None = None
        self.due_at: datetime | None = None
        self.clock_started_at: datetime | None = None
        self.clock_no = 0
        # How the running clock was made (see domain/policies/clock.py) and the calendar
        # version of each year it was computed on: what a revision recomputes.
        self.clock_recipe: list[Step] = []
        self.calendar: dict[str, str] = {}
        self.escalation_level = 0
        self.ladder: dict[str, str] = {}
        self.ladder_done: list[str] = []
        self.plan: dict[str, Any] | None = None
        self.paused: dict[str, Any] | None = None
        self.notices: list[dict[str, Any]] = []
        self.call_attempts: list[dict[str, Any]] = []
        self.handoffs: list[dict[str, Any]] = []
        self.calls_requested = 0
        self.chain_head = GENESIS

    @property
    def chain_head(self) -> str:
        """The hash of the last event applied (GENESIS before any): hashed at first use
        after an event, then kept in the state (snapshots hold it)."""
        state = self.__dict__
        tip = state.pop("_chain_tip", None)
        if tip is not None:
            state["chain_head"] = event_hash(tip)
        head: str = state["chain_head"]
        return head

    @chain_head.setter
    def chain_head(self, value: str) -> None:
        self.__dict__["chain_head"] = value

    def __deepcopy__(self, memo: dict[int, Any]) -> WorkOrder:
        """The repository copies cached orders for each command; state is plain nested
        lists and dicts of immutable values, so a structural copy is exact and ~10x
        cheaper than copy.deepcopy's generic walk."""
        clone = object.__new__(type(self))
        # Most attributes are scalars: only lists and dicts are walked (no call per scalar).
        clone.__dict__.update({name: _clone(value) if type(value) in _CONTAINERS else value
                               for name, value in self.__dict__.items()})
        return clone

    # ----- helpers -------------------------------------------------------------------
    @property
    def full_state(self) -> str:
        return lc.join_state(self.state, self.substate)

    @property
    def is_terminal(self) -> bool:
        return self.state in lc.TERMINAL_STATES

    def _next(self, command: str) -> tuple[str, str | None]:
        return lc.split_state(lc.next_state(self.ticket_no, self.full_state, command))

    def _emit(self, event_class: type[Any], actor: Actor, at: datetime, **fields: Any) -> None:
        emit(self, event_class, actor, at, **fields)

    def _require_lead(self, dept: str) -> None:
        if dept != self.department:
            raise NotResponsible(self.ticket_no, dept, self.department)

    def _require_before_due(self, at: datetime, label: str) -> None:
        # Extensions must be requested and approved before the deadline expires.
        if self.due_at is not None and at >= self.due_at:
            raise InvalidInput(
                "due_at",
                f"工单 {self.ticket_no} 已超期，不能{label}（期限 {self.due_at.isoformat()}）",
                f"work order {self.ticket_no} is overdue: {label} must happen before the due time",
            )

    def _move(self, state: str, substate: str | None) -> None:
        self.state = state
        self.substate = substate
        if state not in lc.OPEN_STATES:
            # A closed order has no clock anything could act on (KPIs read the events).
            self.due_at = self.sign_due_at = self.dispatch_due_at = None
            self.clock_recipe, self.calendar = [], {}

    # ----- intake --------------------------------------------------------------------
    @classmethod
    def register(
        cls,
        *,
        ticket_no: str,
        channel: str,
        category: str,
        urgency: str,
        region: str,
        content: str,
        citizen_id: str,
        personal: str,
        actor: Actor,
        at: datetime,
        dispatch_due_at: datetime | None = None,
    ) -> WorkOrder:
        region, content = cls.check_intake(
            channel=channel, category=category, urgency=urgency, region=region, content=content
        )
        return cls._create(
            cls.Registered,
            id=order_id(ticket_no),
            timestamp=at,
            ticket_no=ticket_no,
            channel=channel,
            category=category,
            urgency=urgency,
            region=region,
            content=content,
            citizen_id=citizen_id,
            personal=personal,
            dispatch_due_at=dispatch_due_at,
            actor_role=actor.role,
            actor_id=actor.id,
            prev_hash=GENESIS,
        )

    @staticmethod
    def check_intake(
        *, channel: str, category: str, urgency: str, region: str, content: str
    ) -> tuple[str, str]:
        """Validate intake fields; returns the normalised (region, content)."""
        require_choice("channel", channel, CHANNELS, "受理渠道")
        require_choice("category", category, CATEGORIES, "诉求类别")
        require_choice("urgency", urgency, URGENCIES, "紧急程度")
        return (require_text("region", region, "所属区域", 100),
                require_text("content", content, "诉求内容"))

    class Registered(Event, Aggregate.Created):
        ticket_no: str
        channel: str
        category: str
        urgency: str
        region: str
        content: str
        citizen_id: str
        personal: str  # the only place personal data lives: one encrypted token
        dispatch_due_at: datetime | None

        def apply(self, order: WorkOrder) -> None:
            for name in ("ticket_no", "channel", "category", "urgency", "region", "content"):
                setattr(order, name, getattr(self, name))
            order.citizen_id = self.citizen_id
            order.personal = self.personal
            order.dispatch_due_at = self.dispatch_due_at
            order.created_at = self.timestamp

    # ----- direct answer (咨询 only) ------------------------------------------------------
    def answer(self, *, reply: str, actor: Actor, at: datetime) -> None:
        state, sub = self._next("answer")
        if self.category != "咨询":
            raise InvalidInput(
                "category",
                f"只有咨询类工单可以直接答复（本工单为{self.category}）",
                f"only 咨询 (consultation) orders can be answered directly; this is {self.category}",
            )
        self._emit(self.Answered, actor, at, reply=require_text("reply", reply, "答复内容"),
                   state=state, substate=sub)

    class Answered(Event):
        reply: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.reply = self.reply
            order.resolved_at = self.timestamp
            order._move(self.state, self.substate)

    # ----- dispatch / re-dispatch -------------------------------------------------------
    def dispatch(
        self,
        *,
        dept: str,
        assist: list[str],
        actor: Actor,
        at: datetime,
        due_at: datetime | None = None,
        sign_due_at: datetime | None = None,
        ladder: dict[str, str] | None = None,
        calendar: dict[str, str] | None = None,
    ) -> None:
        state, sub = self._next("dispatch")
        self._emit(self.Dispatched, actor, at, dept=dept, assist=_assists(dept, assist),
                   due_at=due_at, sign_due_at=sign_due_at, ladder=ladder, calendar=calendar,
                   state=state, substate=sub)

    def record_suggestion(self, *, suggestions: list[dict[str, Any]], threshold: float,
                          catalogue_version: int | None, actor: Actor, at: datetime) -> None:
        """The suggestion an automatic dispatch follows (智能派单, issue 14), recorded just
        before the Dispatched it leads to, in the same save: the stream says why."""
        self._emit(self.DispatchSuggested, actor, at, suggestions=suggestions,
                   threshold=threshold, catalogue_version=catalogue_version)

    class DispatchSuggested(Event):
        suggestions: list[dict[str, Any]]  # best first: dept, score, reason, assist, item
        threshold: float  # the policy's threshold the top score passed
        catalogue_version: int | None

        def apply(self, order: WorkOrder) -> None:
            pass  # changes nothing: the Dispatched that follows does

    class Dispatched(Event):
        dept: str
        assist: list[str]
        due_at: datetime | None
        sign_due_at: datetime | None
        ladder: dict[str, str] | None
        calendar: dict[str, str] | None  # year -> arrangement version the clock used
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.department = self.dept
            order.assist_departments = list(self.assist)
            order.dispatched_at = self.timestamp
            order._start_clock(self.timestamp, self.due_at,
                               [handling_step(self.timestamp)], _calendar(self))
            order.sign_due_at = self.sign_due_at
            order._move(self.state, self.substate)

    def redispatch(
        self,
        *,
        dept: str,
        assist: list[str],
        reason: str,
        actor: Actor,
        at: datetime,
        due_at: datetime | None = None,
        sign_due_at: datetime | None = None,
        ladder: dict[str, str] | None = None,
        calendar: dict[str, str] | None = None,
        resumed: bool = False,
    ) -> None:
        state, sub = self._next("redispatch")
        self._emit(self.Redispatched, actor, at, dept=dept, assist=_assists(dept, assist),
                   reason=require_text("reason", reason, "改派理由"), due_at=due_at,
                   sign_due_at=sign_due_at, ladder=ladder, calendar=calendar, resumed=resumed,
                   state=state, substate=sub)

    class Redispatched(Dispatched):
        reason: str
        resumed: bool  # the same unit got its paused clock back

        def apply(self, order: WorkOrder) -> None:
            if not self.resumed:
                super().apply(order)
                return
            order.department = self.dept
            order.assist_departments = list(self.assist)
            order.dispatched_at = self.timestamp
            order._resume_clock(self.timestamp, self.due_at, _calendar(self))
            order.sign_due_at = self.sign_due_at
            order._move(self.state, self.substate)

    def _resume_clock(self, at: datetime, due_at: datetime | None,
                      calendar: dict[str, str]) -> None:
        """The paused clock continues: steps already taken, the level, the plan and the
        超期 flag stay, so returning an order never wipes its escalation."""
        paused = self.paused or {}
        self.due_at = due_at
        recipe = list(paused.get("recipe") or [])
        self.clock_recipe = recipe + [resume_step(paused["returned_at"], at)] if recipe else []
        self.calendar = calendar
        self.paused = None

    def paused_by(self, dept: str) -> bool:
        """The order is 已退回 with a paused clock of ``dept`` (who would get it back)."""
        return self.paused is not None and self.paused.get("dept") == dept

    @property
    def report_by(self) -> datetime | None:
        """When the unit must report its plan on the running clock (the level-1 instant)."""
        level1 = self.ladder.get("level1")
        return datetime.fromisoformat(level1) if level1 else None

    @property
    def extensions_approved(self) -> int:
        return sum(1 for x in self.extensions if x.get("decision") == "批准")

    def resumed_recipe(self, at: datetime) -> list[Step]:
        """The recipe of the paused clock resumed at ``at`` (empty when it has none)."""
        if not self.paused or not self.paused.get("recipe"):
            return []
        return [*self.paused["recipe"], resume_step(self.paused["returned_at"], at)]

    def _start_clock(
        self, started_at: datetime, due_at: datetime | None, recipe: list[Step],
        calendar: dict[str, str],
    ) -> None:
        """A fresh handling clock clears the previous clock's warnings and escalations
        (its steps taken and plan: fold_ladder)."""
        self.clock_started_at = started_at
        self.due_at = due_at
        self.clock_recipe = recipe if due_at is not None else []
        self.calendar = calendar
        self.clock_no += 1
        self.escalation_level = 0
        if "超期" in self.flags:
            self.flags.remove("超期")

    # ----- sign / return / dispute ------------------------------------------------------
    def sign(self, *, dept: str, actor: Actor, at: datetime) -> None:
        state, sub = self._next("sign")
        self._require_lead(dept)
        self._emit(self.Signed, actor, at, dept=dept, state=state, substate=sub)

    class Signed(Event):
        dept: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.signed_at = self.timestamp
            order.sign_due_at = None
            order._move(self.state, self.substate)

    def return_order(self, *, dept: str, reason: str, actor: Actor, at: datetime) -> None:
        state, sub = self._next("return_order")
        self._require_lead(dept)
        self._emit(self.Returned, actor, at, dept=dept,
                   reason=require_text("reason", reason, "退单理由"), state=state, substate=sub)

    class Returned(Event):
        dept: str
        reason: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.return_count += 1
            order.returns.append(
                {"dept": self.dept, "reason": self.reason, "at": self.timestamp.isoformat()}
            )
            # Time spent 已退回 counts against no unit: the clock pauses here, and resumes
            # (shifted by the pause) if the same unit gets the order back.
            order.paused = {"dept": self.dept, "returned_at": self.timestamp.isoformat(),
                            "due_at": order.due_at.isoformat() if order.due_at else None,
                            "recipe": order.clock_recipe}
            order.due_at = None
            order.sign_due_at = None
            order.clock_recipe, order.calendar = [], {}
            order._move(self.state, self.substate)

    def reject_return(
        self, *, reason: str, actor: Actor, at: datetime, due_at: datetime | None = None,
        ladder: dict[str, str] | None = None,
        calendar: dict[str, str] | None = None,
        resumed: bool = False,
    ) -> None:
        state, sub = self._next("reject_return")
        self._emit(self.ReturnRejected, actor, at,
                   reason=require_text("reason", reason, "驳回理由"), due_at=due_at,
                   ladder=ladder, calendar=calendar, resumed=resumed, state=state,
                   substate=sub)

    class ReturnRejected(Event):
        reason: str
        due_at: datetime | None
        ladder: dict[str, str] | None
        calendar: dict[str, str] | None
        resumed: bool
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            if order.returns:
                order.returns[-1]["rejected"] = self.reason
            if self.resumed:
                order._resume_clock(self.timestamp, self.due_at, _calendar(self))
            else:
                order._start_clock(self.timestamp, self.due_at,
                                   [handling_step(self.timestamp)], _calendar(self))
            order._move(self.state, self.substate)

    # ----- cross-region transfer --------------------------------------------------------
    def transfer(
        self, *, hotline: str, reference: str, reason: str, actor: Actor, at: datetime
    ) -> None:
        state, sub = self._next("transfer")
        self._emit(self.Transferred, actor, at,
                   hotline=require_text("hotline", hotline, "接收热线", 100),
                   reference=require_text("reference", reference, "对方工单号", 100),
                   reason=require_text("reason", reason, "转办理由"), state=state, substate=sub)

    class Transferred(Event):
        hotline: str
        reference: str
        reason: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.transferred_to = {"hotline": self.hotline, "reference": self.reference,
                              "reason": self.reason}
            order.closed_at = self.timestamp
            order._move(self.state, self.substate)

    # ----- extension ------------------------------------------------------------------
    def request_extension(
        self, *, dept: str, days: int, reason: str, actor: Actor, at: datetime
    ) -> None:
        state, sub = self._next("request_extension")
        self._require_lead(dept)
        self._require_before_due(at, "申请延期")
        if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
            raise InvalidInput(
                "days",
                f"延期天数应为 1 到 {MAX_EXTENSION_DAYS} 个工作日",
                f"extension days must be 1..{MAX_EXTENSION_DAYS} working days",
            )
        self._emit(self.ExtensionRequested, actor, at, dept=dept, days=days,
                   reason=require_text("reason", reason, "延期理由"), state=state, substate=sub)

    class ExtensionRequested(Event):
        dept: str
        days: int
        reason: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.pending_extension = {"days": self.days, "reason": self.reason,
                                       "requested_at": self.timestamp.isoformat()}
            order._move(self.state, self.substate)

    def approve_extension(
        self, *, note: str, actor: Actor, at: datetime, due_at: datetime | None = None,
        ladder: dict[str, str] | None = None,
        calendar: dict[str, str] | None = None,
    ) -> None:
        state, sub = self._next("approve_extension")
        self._require_before_due(at, "批准延期")
        self._emit(self.ExtensionApproved, actor, at,
                   note=optional_text("note", note, "审批意见"),
                   due_at=due_at, ladder=ladder, calendar=calendar, state=state,
                   substate=sub)

    def extended_recipe(self) -> list[Step]:
        """The running clock's recipe with the pending extension approved."""
        if not self.clock_recipe or not self.pending_extension:
            return []
        return [*self.clock_recipe, extend_step(int(self.pending_extension["days"]))]

    class ExtensionApproved(Event):
        note: str
        due_at: datetime | None
        ladder: dict[str, str] | None
        calendar: dict[str, str] | None
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            record = dict(order.pending_extension or {})
            record.update(decision="批准", note=self.note, decided_at=self.timestamp.isoformat())
            order.extensions.append(record)
            order.clock_recipe = order.extended_recipe()
            order.calendar = _calendar(self)
            order.pending_extension = None
            order.due_at = self.due_at
            # The ladder re-arms against the new due date (fold_ladder): the level too.
            order.escalation_level = 0
            order._move(self.state, self.substate)

    def deny_extension(self, *, reason: str, actor: Actor, at: datetime) -> None:
        state, sub = self._next("deny_extension")
        self._emit(self.ExtensionDenied, actor, at,
                   reason=require_text("reason", reason, "驳回理由"), state=state, substate=sub)

    class ExtensionDenied(Event):
        reason: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            record = dict(order.pending_extension or {})
            record.update(decision="驳回", note=self.reason,
                          decided_at=self.timestamp.isoformat())
            order.extensions.append(record)
            order.pending_extension = None
            order._move(self.state, self.substate)

    # ----- resolve ----------------------------------------------------------------------
    def resolve(self, *, dept: str, reply: str, actor: Actor, at: datetime) -> None:
        state, sub = self._next("resolve")
        self._require_lead(dept)
        self._emit(self.Resolved, actor, at, dept=dept,
                   reply=require_text("reply", reply, "办理答复"), state=state, substate=sub)

    class Resolved(Event):
        dept: str
        reply: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.reply = self.reply
            order.resolved_at = self.timestamp
            order.pending_extension = None
            order._move(self.state, self.substate)

    # ----- callback (回访) ---------------------------------------------------------------
    def record_callback(
        self,
        *,
        result: str,
        comment: str,
        actor: Actor,
        at: datetime,
        due_at: datetime | None = None,
        ladder: dict[str, str] | None = None,
        dispatch_due_at: datetime | None = None,
        calendar: dict[str, str] | None = None,
    ) -> None:
        require_choice("result", result, CALLBACK_RESULTS, "回访结果")
        comment = optional_text("comment", comment, "回访意见")
        if result == "不满意" and self.department is None:
            # A direct answer (no unit ever had it) reopens at the centre, to be dispatched.
            state, sub = self._next("reopen_to_centre")
            self._emit(self.Reopened, actor, at, comment=comment, due_at=None, ladder=None,
                       calendar=None, dispatch_due_at=dispatch_due_at, supervision=None,
                       state=state, substate=sub)
        elif result == "不满意":
            state, sub = self._next("reopen")
            number = f"{self.ticket_no}-DB{len(self.supervision_orders) + 1:02d}"
            self._emit(self.Reopened, actor, at, comment=comment, due_at=due_at, ladder=ladder,
                       calendar=calendar, dispatch_due_at=None,
                       supervision={"no": number, "dept": self.department, "kind": "重办督办",
                                    "reason": "回访不满意" + (f"：{comment}" if comment else "")},
                       state=state, substate=sub)
        else:
            state, sub = self._next("archive")
            self._emit(self.CallbackArchived, actor, at, result=result, comment=comment,
                       state=state, substate=sub)

    class CallbackArchived(Event):
        result: str
        comment: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.callback = {"result": self.result, "comment": self.comment,
                              "at": self.timestamp.isoformat()}
            if self.result not in SATISFIED_RESULTS:
                order.flags.append("未回访")
            order.closed_at = self.timestamp
            order._move(self.state, self.substate)

    class Reopened(Event):
        comment: str
        due_at: datetime | None
        ladder: dict[str, str] | None
        calendar: dict[str, str] | None
        dispatch_due_at: datetime | None
        supervision: dict[str, Any] | None
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.callback = {"result": "不满意", "comment": self.comment,
                              "at": self.timestamp.isoformat()}
            order.reopen_count += 1
            if self.supervision:
                order.supervision_orders.append({**self.supervision,
                                                 "issued_at": self.timestamp.isoformat()})
            if self.dispatch_due_at:
                order.dispatch_due_at = self.dispatch_due_at
            order.resolved_at = None
            order._start_clock(self.timestamp, self.due_at,
                               [reopen_step(self.timestamp)], _calendar(self))
            order._move(self.state, self.substate)

    # ----- calendar revision -------------------------------------------------------------
    def revise_deadline(
        self, *, due_at: datetime, ladder: dict[str, str], sign_due_at: datetime | None,
        calendar: dict[str, str], reason: str, actor: Actor, at: datetime,
    ) -> None:
        """The calendar the clock was computed on changed (a provisional year became
        official, or an arrangement was replaced): the same recipe, recomputed."""
        self._next("revise_deadline")
        self._emit(self.DeadlineRevised, actor, at, previous_due_at=self.due_at,
                   previous_ladder=dict(self.ladder), previous_calendar=dict(self.calendar),
                   due_at=due_at, ladder=ladder, sign_due_at=sign_due_at, calendar=calendar,
                   reason=require_text("reason", reason, "修订理由"))

    class DeadlineRevised(Event):
        previous_due_at: datetime | None
        previous_ladder: dict[str, str]
        previous_calendar: dict[str, str]
        due_at: datetime
        ladder: dict[str, str]
        sign_due_at: datetime | None
        calendar: dict[str, str]
        reason: str

        def apply(self, order: WorkOrder) -> None:
            # Steps already taken stay taken; the level and the plan are kept.
            order.due_at = self.due_at
            if order.sign_due_at is not None:
                order.sign_due_at = self.sign_due_at
            order.calendar = dict(self.calendar)

    # ----- deadline ladder (临期 → 催办 → 超期督办 → 通报) ------------------------------------
    def report_plan(
        self, *, dept: str, eta: datetime, note: str, actor: Actor, at: datetime
    ) -> None:
        """The unit reports its handling plan after a reminder; stops the level-1 call."""
        self._next("report_plan")
        self._require_lead(dept)
        self._emit(self.PlanReported, actor, at, dept=dept, eta=eta,
                   note=require_text("note", note, "处理计划"))

    class PlanReported(Event):
        dept: str
        eta: datetime
        note: str

        def apply(self, order: WorkOrder) -> None:
            order.plan = {"dept": self.dept, "eta": self.eta.isoformat(), "note": self.note,
                          "reported_at": self.timestamp.isoformat(), "clock_no": order.clock_no}

    def due_ladder_steps(self, now: datetime) -> list[str]:
        """Ladder steps of the current clock whose instant has come and that were not taken."""
        if self.state not in lc.OPEN_STATES:
            return []
        pending = pending_ladder(self.ladder, self.ladder_done, self.plan is not None)
        return [step for step, instant in pending if instant <= now]

    def take_ladder_step(
        self,
        *,
        step: str,
        target_dept: str | None,
        notice: str,
        supervision: dict[str, Any] | None,
        calls: list[dict[str, Any]],
        actor: Actor,
        at: datetime,
    ) -> None:
        self._next("escalate")
        if step not in self.due_ladder_steps(at):
            raise InvalidInput("step", f"工单 {self.ticket_no} 的“{step}”步骤未到期或已执行",
                               f"ladder step {step} of {self.ticket_no} is not due or was taken")
        self._emit(self.Escalated, actor, at, step=step, level=LADDER_LEVEL[step],
                   clock_no=self.clock_no, target_dept=target_dept, notice=notice,
                   supervision=supervision)
        for call in calls:
            self._emit(self.OutboundCallRequested, actor, at, **call)

    class Escalated(Event):
        step: str
        level: int
        clock_no: int
        target_dept: str | None
        notice: str
        supervision: dict[str, Any] | None

        def apply(self, order: WorkOrder) -> None:
            order.escalation_level = max(order.escalation_level, self.level)
            if self.step == "level2" and "超期" not in order.flags:
                order.flags.append("超期")
            if self.supervision:
                order.supervision_orders.append({**self.supervision,
                                                 "issued_at": self.timestamp.isoformat()})
            order.notices.append({"step": self.step, "notice": self.notice,
                                  "at": self.timestamp.isoformat()})

    class OutboundCallRequested(Event):
        call_id: str
        target_role: str  # "department" or "citizen"
        target_dept: str | None
        citizen_id: str | None  # the dialler looks the phone up in the vault
        phone: str  # duty phone of a unit; empty for a citizen (never in clear)
        purpose: str
        script: str

        def apply(self, order: WorkOrder) -> None:
            order.calls_requested += 1

    # ----- outbound calls (the robot's dial outcomes) -------------------------------------
    def record_call(
        self, *, call_id: str, purpose: str, outcome: str, attempt: int, actor: Actor,
        at: datetime,
    ) -> None:
        """One dial attempt (回访 or reminder): answered, no answer, busy, 空号 or 停机."""
        self._next("record_call")
        require_choice("outcome", outcome, CALL_OUTCOMES, "外呼结果")
        self._emit(self.CallAttempted, actor, at, call_id=require_text("call_id", call_id,
                   "呼叫编号", 200), purpose=require_text("purpose", purpose, "外呼目的", 50),
                   outcome=outcome, attempt=attempt)

    class CallAttempted(Event):
        call_id: str
        purpose: str
        outcome: str
        attempt: int

        def apply(self, order: WorkOrder) -> None:
            order.call_attempts.append({"call_id": self.call_id, "purpose": self.purpose,
                                        "outcome": self.outcome, "attempt": self.attempt,
                                        "at": self.timestamp.isoformat()})
            if self.outcome in ("空号", "停机") and self.outcome not in order.flags:
                order.flags.append(self.outcome)

    def request_handoff(self, *, transcript: str, reason: str, actor: Actor, at: datetime) -> None:
        """The citizen asked for a human agent during the callback: no result is recorded."""
        self._next("request_handoff")
        self._emit(self.HumanHandoffRequested, actor, at, transcript=transcript or "",
                   reason=require_text("reason", reason, "转人工原因"))

    class HumanHandoffRequested(Event):
        transcript: str
        reason: str

        def apply(self, order: WorkOrder) -> None:
            order.handoffs.append({"transcript": self.transcript, "reason": self.reason,
                                   "at": self.timestamp.isoformat()})

    # ----- personal data in free text ---------------------------------------------------
    def seal_text(self, *, token: str, actor: Actor, at: datetime) -> None:
        """Personal data the previous command's free text held, sealed with the caller's
        key (domain/free_text.py); that event records only the masks. Not a lifecycle
        command: it goes with the command whose text it completes."""
        self._emit(self.TextSealed, actor, at, sealed=token)

    class TextSealed(Event):
        sealed: str  # ciphertext under the citizen's data key: shredded with it

        def apply(self, order: WorkOrder) -> None:
            order.sealed_text.append(self.sealed)

    # ----- erasure (删除权) ------------------------------------------------------------------
    def erase_personal(self, *, reason: str, actor: Actor, at: datetime) -> None:
        """The caller's personal data is erased: their data key is shredded in the same
        transaction (domain.erasure.erase_citizen), so the token sealed in Registered,
        and in any snapshot, no longer opens. Not a lifecycle command: erasure is owed to
        the citizen whatever the order's state (closed orders included) and moves nothing.
        An order already erased records nothing."""
        reason = require_text("reason", reason, "删除理由")
        if self.erased is not None:
            return
        self._emit(self.PersonalDataErased, actor, at, reason=reason)

    class PersonalDataErased(Event):
        reason: str  # carries no personal data: the citizen id stays in Registered only

        def apply(self, order: WorkOrder) -> None:
            order.personal = ""  # snapshots taken from now on hold no token at all
            order.sealed_text = []
            order.erased = {"at": self.timestamp.isoformat(), "reason": self.reason}

    # ----- withdraw / merge ---------------------------------------------------------------
    def withdraw(self, *, reason: str, actor: Actor, at: datetime) -> None:
        state, sub = self._next("withdraw")
        self._emit(self.Withdrawn, actor, at, reason=require_text("reason", reason, "撤单理由"),
                   state=state, substate=sub)

    class Withdrawn(Event):
        reason: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.closing_reason = self.reason
            order.closed_at = self.timestamp
            order._move(self.state, self.substate)

    def merge_into(self, *, master: WorkOrder, reason: str, actor: Actor, at: datetime) -> None:
        """Merge this duplicate into `master` (both events are saved together)."""
        state, sub = self._next("merge")
        master._next("attach_duplicate")
        if master.ticket_no == self.ticket_no:
            raise InvalidInput("master", "不能将工单并入自身", "cannot merge an order into itself")
        reason = require_text("reason", reason, "并单理由")
        self._emit(self.Merged, actor, at, master=master.ticket_no, reason=reason,
                   state=state, substate=sub)
        master._emit(master.DuplicateAttached, actor, at, duplicate=self.ticket_no, reason=reason)

    class Merged(Event):
        master: str
        reason: str
        state: str
        substate: str | None

        def apply(self, order: WorkOrder) -> None:
            order.merged_into = self.master
            order.closing_reason = self.reason
            order.closed_at = self.timestamp
            order._move(self.state, self.substate)

    class DuplicateAttached(Event):
        duplicate: str
        reason: str

        def apply(self, order: WorkOrder) -> None:
            order.duplicates.append(self.duplicate)


def _calendar(event: Any) -> dict[str, str]:
    # Events recorded before clocks kept their calendar basis have no such field.
    return dict(getattr(event, "calendar", None) or {})


_CONTAINERS = (list, dict)


def _clone(value: Any) -> Any:
    kind = type(value)
    if kind is list:
        return [_clone(item) for item in value]
    if kind is dict:
        return {key: _clone(item) for key, item in value.items()}
    return value  # str, int, bool, None, datetime, UUID, frozen events: immutable


def pending_ladder(
    ladder: Mapping[str, str], done: list[str] | tuple[str, ...], has_plan: bool
) -> list[tuple[str, datetime]]:
    """Steps still to take on a clock, in order (shared with the deadline index projection)."""
    pending = []
    for step in LADDER_STEPS:
        instant = ladder.get(step)
        if instant is None or step in done:
            continue
        if step == "level1" and has_plan:
            continue  # the unit reported a plan in time: no call to its supervisor
        pending.append((step, datetime.fromisoformat(instant)))
    return pending


def _assists(lead: str, assist: list[str]) -> list[str]:
    unique = list(dict.fromkeys(a for a in assist if a))
    if lead in unique:
        raise InvalidInput(
            "assist",
            f"协办单位不能与主办单位“{lead}”相同",
            f"assisting unit {lead!r} is already the lead unit",
        )
    return unique


@dataclass(frozen=True)
class LadderState:
    """What the deadline ladder of an order needs: the instants of its running clock's
    steps, the steps taken on it, and whether the unit reported a plan (no level-1 call)."""

    ladder: Mapping[str, str] = field(default_factory=dict)
    done: tuple[str, ...] = ()
    has_plan: bool = False

    def pending(self) -> list[tuple[str, datetime]]:
        return pending_ladder(self.ladder, self.done, self.has_plan)


# The events that record the order's resulting state (a subclass inherits the field).
STATE_EVENTS: tuple[type[Any], ...] = (
    WorkOrder.Answered, WorkOrder.Dispatched, WorkOrder.Signed, WorkOrder.Returned,
    WorkOrder.ReturnRejected, WorkOrder.Transferred, WorkOrder.ExtensionRequested,
    WorkOrder.ExtensionApproved, WorkOrder.ExtensionDenied, WorkOrder.Resolved,
    WorkOrder.CallbackArchived, WorkOrder.Reopened, WorkOrder.Withdrawn, WorkOrder.Merged,
)


def fold_ladder(before: LadderState, event: object) -> LadderState:
    """The one rule of which event arms, pauses, re-arms or clears the ladder: folded by
    WorkOrder.Event.mutate and by the deadline index, so they cannot disagree. Events of
    other aggregates (and events that do not touch the ladder) return ``before``."""
    w = WorkOrder
    if isinstance(event, w.Redispatched | w.ReturnRejected) and event.resumed:
        # The paused clock continues: the steps taken and the plan stay.
        after = replace(before, ladder=dict(event.ladder or {}))
    elif isinstance(event, w.Dispatched | w.ReturnRejected | w.Reopened):
        after = LadderState(dict(event.ladder or {}))  # a fresh clock
    elif isinstance(event, w.ExtensionApproved):
        # The same clock, re-armed against the new due date: the plan stays.
        after = LadderState(dict(event.ladder or {}), (), before.has_plan)
    elif isinstance(event, w.DeadlineRevised):
        # Recomputed on a new calendar: steps already taken stay taken, the plan stays.
        after = replace(before, ladder=dict(event.ladder))
    elif isinstance(event, w.Returned):
        # Paused; `done` is kept for a resume by the same unit.
        after = replace(before, ladder={})
    elif isinstance(event, w.Escalated):
        after = replace(before, done=(*before.done, event.step))
    elif isinstance(event, w.PlanReported):
        after = replace(before, has_plan=True)
    else:
        after = before
    if isinstance(event, STATE_EVENTS) and event.state not in lc.OPEN_STATES and after.ladder:
        after = replace(after, ladder={})  # a closed order keeps no clock
    return after
