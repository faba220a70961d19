"""Stateful property test: random command sequences against the real service on SQLite.

Each Hypothesis example gets a fresh SQLite file, the real engine (service, vault,
ledger, projections) and a simulation clock that moves forward a random number of
minutes before every command. Commands get valid or invalid arguments on existing
(and unknown) tickets. After every step:

(a) the live aggregate (the object the command just saved) renders the same view as a
    pure replay of its events, as `service.show` (repository, snapshots) and as a
    second engine reading the same file;
(b) a refused command (DomainError) recorded nothing: per-order versions and the
    notification log are unchanged, and a refused intake used no ticket number;
(c) `history(T, as_of=t)` shows, for every moment t recorded so far, the view that was
    live at t;
and the lifecycle table decides legality: a command the table forbids is refused, an
IllegalTransition is only raised for what the table forbids, and a successful command
lands in the state the table names. At teardown, `engine.verify()` is ok.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from adapters.bootstrap import build_engine
from domain import lifecycle as lc
from domain.errors import DomainError, IllegalTransition
from domain.service import SHANGHAI
from domain.values import CALLBACK_RESULTS, CATEGORIES, Actor
from domain.workorder import WorkOrder, order_id
from tests.conftest import SimClock

AGENT = Actor("agent", "A01")
CENTRE = Actor("dispatcher", "D01")
UNITS = ("区城管局", "区水务局", "区市场监管局")
UNKNOWN_UNIT = "火星局"
UNKNOWN_TICKET = "209901019999"
MAX_ORDERS = 5
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=SHANGHAI)

MINUTES = st.one_of(st.integers(0, 90), st.integers(0, 90), st.integers(0, 90),
                  st.integers(0, 3 * 24 * 60), st.integers(0, 15 * 24 * 60))
REASONS = st.sampled_from(["需要协调", "群众诉求已核实", "需要协调", "   "])
DEPTS = st.sampled_from((*UNITS, UNKNOWN_UNIT))
ASSISTS = st.lists(DEPTS, max_size=2)
TABLE = lc.transition_table()
# Which unit acts: the order's lead unit (most of the time), another unit, or none known.
WHO = st.sampled_from(["lead", "lead", "lead", "other", "unknown"])
REPLIES = st.sampled_from(("已处理完毕", "请到政务中心办理", " "))
ARGUMENTS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "answer": {"reply": REPLIES},
    "dispatch": {"dept": DEPTS, "assist": ASSISTS},
    "redispatch": {"dept": DEPTS, "assist": ASSISTS, "reason": REASONS},
    "sign": {"who": WHO},
    "return_order": {"who": WHO, "reason": REASONS},
    "reject_return": {"reason": REASONS},
    "transfer": {"hotline": st.sampled_from(("北京12345", "")), "reason": REASONS},
    "request_extension": {"who": WHO, "reason": REASONS,
                          "days": st.one_of(st.integers(1, 30), st.sampled_from((0, -1, 31)))},
    "approve_extension": {"note": st.sampled_from(("同意", ""))},
    "deny_extension": {"reason": REASONS},
    "resolve": {"who": WHO, "reply": REPLIES},
    "callback": {"result": st.sampled_from((*CALLBACK_RESULTS, "一般般")),
                 "comment": st.sampled_from(("", "办理很快", "没人来"))},
    "withdraw": {"reason": REASONS},
    "merge": {"reason": REASONS},
    "report_plan": {"who": WHO, "days": st.integers(-1, 5)},
}
COMMANDS = tuple(ARGUMENTS)
CALLBACKS = ("archive", "reopen", "reopen_to_centre")  # table commands the callback issues


def differences(got: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """The keys whose values differ, as {key: (got, want)} (readable failure messages)."""
    return {k: (got.get(k), want.get(k)) for k in sorted(set(got) | set(want))
            if got.get(k) != want.get(k)}


def replay(service: Any, ticket: str) -> WorkOrder:
    """Fold the stored events alone (no snapshot, no repository)."""
    aggregate: Any = None
    for event in service.events.get(order_id(ticket)):
        aggregate = event.mutate(aggregate)
    assert aggregate is not None
    return aggregate


class WorkOrderMachine(RuleBasedStateMachine):
    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="rexian-prop-"))
        self.clock = SimClock(datetime(2025, 9, 29, 9, 0, tzinfo=SHANGHAI))  # before 国庆
        self.engine = build_engine(str(self.dir / "rexian.db"), clock=self.clock)
        self.reader = build_engine(str(self.dir / "rexian.db"), clock=self.clock)
        self.service = self.engine.service
        self.live: dict[str, WorkOrder] = {}
        self.saved: list[WorkOrder] = []
        commit = self.service._commit

        def spy(*orders: WorkOrder, **staged: Any) -> None:
            commit(*orders, **staged)
            self.saved.extend(orders)
            self.live.update({o.ticket_no: o for o in orders})

        self.service._commit = spy  # type: ignore[method-assign]
        # (moment, ticket) -> the view that was live at that moment (last write wins).
        self.timeline: dict[tuple[datetime, str], dict[str, Any]] = {}

    # ----- plumbing --------------------------------------------------------------------
    def stored_versions(self) -> dict[str, int]:
        recorder = self.service.recorder
        return {t: recorder.select_events(order_id(t), desc=True, limit=1)[0].originator_version
                for t in self.live}

    def log_length(self) -> int:
        return int(self.service.recorder.max_notification_id() or 0)

    def side_tables(self) -> tuple[Any, ...]:
        """Ticket number sequences and vault keys: a refused intake must use neither."""
        with self.engine.db.transaction(immediate=False) as cur:
            return (cur.execute("SELECT day, last FROM rexian_ticket_sequences ORDER BY day"
                                ).fetchall(),
                    cur.execute("SELECT COUNT(*) FROM rexian_citizen_keys").fetchone())

    def unit(self, ticket: str, who: str) -> str:
        lead = self.live[ticket].department if ticket in self.live else None
        if who == "lead" and lead:
            return lead
        if who == "unknown":
            return UNKNOWN_UNIT
        return next(u for u in UNITS if u != lead)

    def state_of(self, ticket: str) -> str | None:
        order = self.live.get(ticket)
        return order.full_state if order else None

    def attempt(self, minutes: int, action: Callable[[], Any],
                moves: Sequence[tuple[str, str]] = ()) -> Any:
        """Run one command; `moves` are the (ticket, lifecycle command) it asks the table for."""
        self.clock.advance(minutes=minutes)
        before = (self.stored_versions(), self.log_length(), self.side_tables())
        legal = all((self.state_of(t), c) in TABLE for t, c in moves)
        states = {t: self.state_of(t) for t, _ in moves}
        self.saved = []
        try:
            result = action()
        except DomainError as error:
            # (b) a refused command records nothing, anywhere.
            assert self.saved == [], f"{type(error).__name__} after saving {self.saved}"
            assert (self.stored_versions(), self.log_length(), self.side_tables()) == before
            if isinstance(error, IllegalTransition):
                assert not legal, f"table allows {moves} from {states} but: {error}"
            return None
        assert legal, f"table forbids {moves} from {states}, yet the command succeeded"
        for ticket, command in moves:
            target = TABLE[(states[ticket], command)]  # type: ignore[index]
            assert self.state_of(ticket) == target, (command, states[ticket], target)
        return result

    # ----- commands ----------------------------------------------------------------------
    def perform(self, ticket: str, command: str, minutes: int, **args: Any) -> None:
        """One service command on `ticket`; `who` picks the acting unit (see `unit`)."""
        s = self.service
        dept = self.unit(ticket, args.get("who", "lead"))
        unit = Actor("department", dept)
        reason = args.get("reason", "需要协调")
        calls: dict[str, Callable[[], Any]] = {
            "answer": lambda: s.answer(ticket, reply=args["reply"], actor=AGENT),
            "dispatch": lambda: s.dispatch(ticket, dept=args["dept"], assist=args["assist"],
                                           actor=CENTRE),
            "redispatch": lambda: s.redispatch(ticket, dept=args["dept"],
                                               assist=args["assist"], reason=reason,
                                               actor=CENTRE),
            "sign": lambda: s.sign(ticket, dept=dept, actor=unit),
            "return_order": lambda: s.return_order(ticket, dept=dept, reason=reason,
                                                   actor=unit),
            "reject_return": lambda: s.reject_return(ticket, reason=reason, actor=CENTRE),
            "transfer": lambda: s.transfer(ticket, hotline=args["hotline"],
                                           reference="BJ-20251001-0001", reason=reason,
                                           actor=CENTRE),
            "request_extension": lambda: s.request_extension(
                ticket, dept=dept, days=args["days"], reason=reason, actor=unit),
            "approve_extension": lambda: s.approve_extension(ticket, note=args["note"],
                                                             actor=CENTRE),
            "deny_extension": lambda: s.deny_extension(ticket, reason=reason, actor=CENTRE),
            "resolve": lambda: s.resolve(ticket, dept=dept, reply=args["reply"], actor=unit),
            "callback": lambda: s.record_callback(ticket, result=args["result"],
                                                  comment=args["comment"], actor=AGENT),
            "withdraw": lambda: s.withdraw(ticket, reason=reason, actor=CENTRE),
            "merge": lambda: s.merge(ticket, into=args["master"], reason=reason,
                                     actor=CENTRE),
            # The plan's ETA: some days after the moment the command runs (or before it).
            "report_plan": lambda: s.report_plan(
                ticket, dept=dept, eta=self.clock.now + timedelta(days=args["days"]),
                note="先排查线路", actor=unit),
        }
        self.attempt(minutes, calls[command], self.moves(ticket, command, args))

    def moves(self, ticket: str, command: str, args: dict[str, Any]) -> list[tuple[str, str]]:
        """What the lifecycle table is asked (empty: the command fails before asking)."""
        if command == "callback":
            if args["result"] not in CALLBACK_RESULTS:
                return []
            if args["result"] != "不满意":
                return [(ticket, "archive")]
            order = self.live.get(ticket)
            # A direct answer (no unit ever had it) reopens at the centre.
            centre = order is not None and order.department is None and (
                "reopen_to_centre" in lc.COMMANDS)
            return [(ticket, "reopen_to_centre" if centre else "reopen")]
        if command == "merge":
            if args["master"] == ticket:
                return []
            return [(ticket, "merge"), (args["master"], "attach_duplicate")]
        return [(ticket, command)]

    @initialize(target=tickets, category=st.sampled_from(("投诉", "咨询", "求助")))
    def first_order(self, category: str) -> str:
        return self.service.intake(channel="电话", category=category, urgency="一般",
                                   region="甬江区东湖街道", content="路灯不亮",
                                   caller_name="张三", caller_phone="13800138000", actor=AGENT)

    @precondition(lambda self: len(self.live) < MAX_ORDERS)
    @rule(target=tickets, minutes=MINUTES,
          category=st.sampled_from((*CATEGORIES, "咨询", "其他")),
          urgency=st.sampled_from(("一般", "紧急", "一般", "特急")),
          content=st.sampled_from(("小区噪音扰民", "楼道堆放杂物", "  ")),
          phone=st.sampled_from(("13800138000", "0574-87000001", "13900139000", "12345")))
    def intake(self, minutes: int, category: str, urgency: str, content: str,
               phone: str) -> Any:
        ticket = self.attempt(minutes, lambda: self.service.intake(
            channel="微信", category=category, urgency=urgency, region="甬江区西塘街道",
            content=content, caller_name="李四", caller_phone=phone, actor=AGENT))
        return ticket if ticket is not None else multiple()

    @rule(ticket=tickets, minutes=MINUTES, data=st.data())
    def any_command(self, ticket: str, minutes: int, data: st.DataObject) -> None:
        """Any command, whatever the state, with arguments valid or not."""
        command = data.draw(st.sampled_from(COMMANDS), label="command")
        args = data.draw(st.fixed_dictionaries(ARGUMENTS[command]), label="args")
        if command == "merge":
            args["master"] = data.draw(st.sampled_from(sorted(self.live)), label="master")
        self.perform(ticket, command, minutes, **args)

    @rule(ticket=tickets, data=st.data())
    def drive(self, ticket: str, data: st.DataObject) -> None:
        """One to four commands the table allows in the order's state, with valid arguments.

        Random commands alone rarely get an order past 已派单; this walks lifecycles deep
        enough to reach returns, extensions, callbacks and reopening.
        """
        for _ in range(data.draw(st.integers(1, 4), label="steps")):
            order = self.live[ticket]
            allowed = [c for c in lc.allowed_commands(order.full_state)
                       if (c in ARGUMENTS or c in CALLBACKS) and not lc.COMMANDS[c].internal
                       and (c != "answer" or order.category == "咨询")
                       and (c != "merge" or len(self.live) > 1)]
            if not allowed:
                return
            progress = [c for c in allowed if c not in ("transfer", "withdraw", "merge")]
            command = data.draw(st.sampled_from(allowed + progress * 4), label="command")
            minutes = data.draw(MINUTES, label="minutes")
            args: dict[str, Any] = {"who": "lead", "reason": "需要协调", "reply": "已处理完毕",
                                    "assist": [], "note": "同意", "hotline": "北京12345",
                                    "comment": "", "days": data.draw(st.integers(1, 5))}
            if command in ("dispatch", "redispatch"):
                args["dept"] = data.draw(st.sampled_from(UNITS), label="dept")
            elif command in CALLBACKS:
                args["result"] = "不满意" if command != "archive" else data.draw(
                    st.sampled_from(("满意", "基本满意", "无法联系")), label="result")
                command = "callback"
            elif command == "merge":
                args["master"] = data.draw(
                    st.sampled_from(sorted(t for t in self.live if t != ticket)), label="master")
            if command == "report_plan" and not hasattr(self.service, "report_plan"):
                return
            self.perform(ticket, command, minutes, **args)
            self.replay_equals_live()  # (a) after every command, not only every rule

    @precondition(lambda self: hasattr(self.service, "escalate_due"))
    @rule(ticket=tickets, minutes=MINUTES, to_next_step=st.booleans())
    def escalate(self, ticket: str, minutes: int, to_next_step: bool) -> None:
        """The deadline ticker on one order; optionally jump to its next ladder instant."""
        order = self.live.get(ticket)
        ladder = getattr(order, "ladder", None)
        if to_next_step and order is not None and ladder:
            instants = [datetime.fromisoformat(ladder[step])
                        for step in order.due_ladder_steps(FAR_FUTURE) if step in ladder]
            if instants:
                wait = (min(instants) - self.clock.now).total_seconds() // 60
                minutes = max(0, int(wait)) + minutes % 10
        self.attempt(minutes, lambda: self.service.escalate_due(ticket))

    @rule(minutes=MINUTES, command=st.sampled_from(("answer", "sign", "withdraw", "show")))
    def unknown_ticket(self, minutes: int, command: str) -> None:
        def action() -> None:
            if command == "answer":
                self.service.answer(UNKNOWN_TICKET, reply="x", actor=AGENT)
            elif command == "sign":
                self.service.sign(UNKNOWN_TICKET, dept=UNITS[0], actor=CENTRE)
            elif command == "withdraw":
                self.service.withdraw(UNKNOWN_TICKET, reason="重复", actor=CENTRE)
            else:
                self.service.show(UNKNOWN_TICKET)
            raise AssertionError(f"{command} on an unknown ticket did not raise")

        self.attempt(minutes, action)

    # ----- invariants ----------------------------------------------------------------------
    @invariant()
    def replay_equals_live(self) -> None:
        view = self.service.view
        for ticket, order in self.live.items():
            live = view(order)
            for source, got in (("replay", view(replay(self.service, ticket))),
                                ("show", self.service.show(ticket)),
                                ("second engine", self.reader.service.show(ticket))):
                assert got == live, (ticket, source, differences(got, live))
            self.timeline[(self.clock.now, ticket)] = live

    @invariant()
    def history_as_of_matches_what_was_live(self) -> None:
        # Every moment for the current step; earlier moments are re-checked at teardown.
        for ticket, order in self.live.items():
            past = self.service.history(ticket, as_of=self.clock.now)["state"]
            live = self.service.view(order)
            assert past == live, (ticket, differences(past, live))

    def teardown(self) -> None:
        try:
            for (moment, ticket), view in self.timeline.items():
                past = self.service.history(ticket, as_of=moment)["state"]
                assert past == view, (ticket, moment, differences(past, view))
            report = self.engine.verify()
            assert report.ok, report.problems
            assert report.unsealed_events == 0
            assert report.checked_events == self.log_length()
        finally:
            self.reader.close()
            self.engine.close()
            shutil.rmtree(self.dir, ignore_errors=True)


WorkOrderMachine.TestCase.settings = settings(
    max_examples=35,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestWorkOrderProperties = WorkOrderMachine.TestCase
