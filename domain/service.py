"""The application service: a thin layer that speaks primitives (ticket numbers, names, text).

It loads the aggregate, calls one command, saves. Validation that needs the outside
world (department registry, phone numbers, vault) happens here, before the aggregate
records anything. Views returned are plain dicts (JSON-ready).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.arrangement import HolidayArrangement, arrangement_id
from domain.commands import BY_NAME
from domain.errors import InvalidInput, UnknownDepartment, UnknownTicket
from domain.free_text import FreeText, sealed_values
from domain.group_commit import GroupCommit
from domain.lifecycle import OPEN_STATES
from domain.phone import normalize_phone
from domain.pii import redact
from domain.policies.calendar import (
    CalendarRangeError,
    WorkingCalendar,
    YearArrangement,
    horizon_year,
)
from domain.policies.clock import (
    ComputedClock,
    Step,
    compute_clock,
    deadline_basis,
    handling_step,
    reopen_step,
    stale_years,
)
from domain.policies.escalation import compose_step
from domain.ports import (
    ERASED,
    Clock,
    DepartmentDirectory,
    PersonalData,
    PersonalDataVault,
    StagedWrite,
    TicketNumbers,
)
from domain.values import Actor, require_text, require_ticket_no
from domain.views import SHANGHAI, history_entry, iso, order_view, revealed
from domain.workorder import WorkOrder, order_id


class Deadlines(Protocol):
    """The subset of the deadline policy the lifecycle needs (domain.policies implements it)."""

    @property
    def calendar(self) -> WorkingCalendar: ...

    def local(self, instant: datetime) -> datetime: ...

    def dispatch_due(self, urgency: str, intake_at: datetime) -> datetime: ...

    def handling_due(self, category: str, urgency: str, started_at: datetime) -> datetime: ...

    def sign_due(self, urgency: str, dispatched_at: datetime) -> datetime: ...

    def reopen_due(self, urgency: str, reopened_at: datetime) -> datetime: ...

    def extend_due(self, due_at: datetime, days: int) -> datetime: ...

    def resume_due(
        self, due_at: datetime, urgency: str, paused_at: datetime, resumed_at: datetime
    ) -> datetime: ...

    def ladder(self, due_at: datetime, urgency: str) -> Any: ...

    def sla_state(self, now: datetime, due_at: datetime, urgency: str) -> str: ...


@contextmanager
def _calendar_known() -> Iterator[None]:
    """A date outside the calendar's years is refused input naming the year
    (CalendarRangeError is a ValueError; front ends only turn DomainErrors into exit 2)."""
    try:
        yield
    except CalendarRangeError as error:
        raise InvalidInput("calendar", error.zh, error.en) from error


def system_clock() -> datetime:
    return datetime.now(UTC)


class WorkOrderService(Application):
    """Commands and queries on work orders (and the holiday arrangements they count on)."""

    name = "Rexian"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {WorkOrder: 50}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        numbers: TicketNumbers,
        vault: PersonalDataVault,
        departments: DepartmentDirectory,
        clock: Clock = system_clock,
        deadlines: Deadlines | None = None,
        on_saved: Callable[[], object] | None = None,
        horizon: Callable[[], int] = horizon_year,
    ) -> None:
        super().__init__(env)
        self.numbers = numbers
        self.vault = vault
        self.departments = departments
        self.clock = clock
        self.deadlines = deadlines
        # The last year a provisional calendar is offered for (the year after the wall
        # clock's; tests pin it so their scenarios do not age).
        self.horizon = horizon
        self._calendar_fresh = False
        # Called after each successful save (the department feed wakes its projection on it).
        self.on_saved = on_saved
        # Concurrent saves of this process (gRPC handlers, the ticker, the dialler) share
        # transactions: one fsync per batch instead of per command (domain/group_commit).
        self.group_commit = GroupCommit(self._record)
        # Per thread: where execute_and_show collects the views of what it committed.
        self._keeping = threading.local()

    # ----- plumbing -------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def load(self, ticket_no: str, version: int | None = None) -> WorkOrder:
        ticket_no = require_ticket_no(ticket_no)  # order_id() cannot hash undecodable text
        try:
            order: WorkOrder = self.repository.get(order_id(ticket_no), version=version)
        except AggregateNotFoundError:
            raise UnknownTicket(ticket_no) from None
        return order

    def _stored(self, originator_id: Any) -> bool:
        return bool(self.recorder.select_events(originator_id, limit=1))

    def _commit(self, *orders: Aggregate, staged: Sequence[StagedWrite] = ()) -> None:
        """Save, with any side-table writes in the same transaction (see StagedWrite); the
        transaction may be shared with other threads' saves (GroupCommit)."""
        event = self._collected(orders, staged)
        self.group_commit.commit(event)
        self._saved(event, orders, staged)

    @staticmethod
    def _collected(orders: Sequence[Aggregate], staged: Sequence[StagedWrite] = ()
                   ) -> ProcessingEvent[Any]:
        event: ProcessingEvent[Any] = ProcessingEvent()
        # What ProcessingEvent.collect_events does, without its runtime Protocol checks
        # (isinstance against two typing Protocols: ~0.1 ms a command).
        for order in orders:
            event.events.extend(order.collect_events())
            event.aggregates[order.id] = order
        if staged:
            event.saved_kwargs["staged"] = list(staged)
        return event

    def _saved(self, event: ProcessingEvent[Any], orders: Sequence[Aggregate],
               staged: Sequence[StagedWrite] = ()) -> None:
        """What follows a committed save: snapshots, side-table caches, the aggregate cache,
        the on_saved hook."""
        self._take_snapshots(event)
        for write in staged:
            write.committed()
        views: dict[str, dict[str, Any]] | None = getattr(self._keeping, "views", None)
        if views is not None:
            # Before the cache holds them: a cached aggregate is fast-forwarded in place.
            for order in orders:
                if isinstance(order, WorkOrder):
                    try:
                        views[order.ticket_no] = self.view(order)
                    except Exception:  # noqa: BLE001 - committed: execute_and_show's show raises
                        pass
        cache = self.repository.cache
        if cache is not None and self.repository.fastforward:
            # The library caches only what it loaded: without this, the first command after
            # intake rebuilds the order from the store. Fast-forward on the next get still
            # picks up anything another process saved after this version.
            for order in orders:
                cache.put(order.id, order)
        if self.on_saved:
            self.on_saved()

    def _dept(self, name: str, field: str = "dept") -> str:
        try:
            self.departments.get(name)
        except UnknownDepartment as error:
            raise UnknownDepartment(name, field) from error  # name the field (dept/assist)
        return name

    def execute_and_show(self, command: str, ticket_no: str | None = None, *, actor: Actor,
                         **fields: Any) -> tuple[str, dict[str, Any]]:
        """`execute`, then the `show` view of the order as the command committed it, built
        from the command's own aggregate (not loaded again from the store)."""
        previous = getattr(self._keeping, "views", None)
        views: dict[str, dict[str, Any]] = {}
        self._keeping.views = views  # filled by _saved, in this thread only
        try:
            number = self.execute(command, ticket_no, actor=actor, **fields)
        finally:
            self._keeping.views = previous
        view = views.get(number)
        return number, view if view is not None else self.show(number)

    # ----- commands -------------------------------------------------------------------
    def execute(self, command: str, ticket_no: str | None = None, *, actor: Actor,
                **fields: Any) -> str:
        """Run one catalogue command (domain/commands.py) through its handler; returns the
        ticket number it acted on (intake makes one). Every front end comes through here."""
        spec = BY_NAME.get(command)
        if spec is None:
            raise InvalidInput("command", f"未知命令“{command}”", f"unknown command {command!r}")
        handler: Callable[..., Any] = getattr(self, spec.name)
        if not spec.ticket:
            return str(handler(actor=actor, **fields))
        ticket_no = require_ticket_no(ticket_no)
        handler(ticket_no, actor=actor, **fields)
        return ticket_no

    def intake(
        self,
        *,
        channel: str,
        category: str,
        urgency: str,
        region: str,
        content: str,
        caller_name: str,
        caller_phone: str,
        actor: Actor,
    ) -> str:
        phone = normalize_phone(caller_phone)
        name = require_text("caller_name", caller_name, "来电人姓名", 50)
        # Validate every field before touching the vault or the sequence.
        region, content = WorkOrder.check_intake(
            channel=channel, category=category, urgency=urgency, region=region, content=content
        )
        # Phones, ID and card numbers, e-mails in the content are sealed with the caller's
        # data; only their masks are recorded, so no view, feed or Kafka record has them.
        found = redact(content, self._public_phones())
        content = found.text
        at = self.now()
        dispatch_due = None
        if self.deadlines:
            with self._calendar_known():  # an order from a year no calendar covers is refused now
                self.deadlines.calendar.check_year(self.deadlines.local(at).year)
            dispatch_due = self.deadlines.dispatch_due(urgency, at)
        day = at.astimezone(SHANGHAI).date()
        seq = 0
        for _attempt in range(100):
            # One transaction: the event, the number it uses, a new caller's key.
            citizen_id, token, key_write = self.vault.seal(
                PersonalData(name=name, phone=phone, extra=found.values))
            seq, number_write = self.numbers.reserve(day, after=seq)
            ticket_no = f"{day:%Y%m%d}{seq:04d}"
            try:  # from here on the number is given back or used up, whatever happens
                order = WorkOrder.register(
                    ticket_no=ticket_no, channel=channel, category=category, urgency=urgency,
                    region=region, content=content, citizen_id=citizen_id, personal=token,
                    actor=actor, at=at, dispatch_due_at=dispatch_due,
                )
                self._commit(order, staged=[w for w in (number_write, key_write) if w])
            except IntegrityError:
                # Another writer took this number (or first sealed this caller): try the
                # next number, with the key that won.
                self.numbers.release(number_write, taken=self._stored(order_id(ticket_no)))
                continue
            except BaseException:
                self.numbers.release(number_write, taken=False)
                raise
            return ticket_no
        raise RuntimeError("could not allocate a ticket number after 100 attempts")

    def _free_text(self) -> FreeText:
        """Masks one command's free text (domain/free_text.py); the units' duty phones
        stay as written."""
        return FreeText(self._public_phones())

    def _commit_texts(self, order: WorkOrder, texts: FreeText, actor: Actor, at: datetime,
                      *others: Aggregate) -> None:
        """Commit `order` (and `others`) with the personal data its texts held sealed."""
        texts.seal(order, self.vault, actor, at)
        self._commit(order, *others)

    def _public_phones(self) -> set[str]:
        """The units' duty phones: published numbers, left unmasked in free text."""
        return {dept.duty_phone for dept in self.departments.all()}

    def answer(self, ticket_no: str, *, reply: str, actor: Actor) -> None:
        order, texts, at = self.load(ticket_no), self._free_text(), self.now()
        order.answer(reply=texts.mask(reply), actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    def dispatch(self, ticket_no: str, *, dept: str, assist: Iterable[str], actor: Actor,
                 suggested: dict[str, Any] | None = None) -> None:
        """`suggested` (an automatic dispatch): the suggestion it follows, recorded with it
        (WorkOrder.record_suggestion's fields)."""
        order = self.load(ticket_no)
        assists = [self._dept(a, "assist") for a in assist]
        at = self.now()
        if suggested is not None:
            order.record_suggestion(actor=actor, at=at, **suggested)
        order.dispatch(dept=self._dept(dept), assist=assists, actor=actor, at=at,
                       sign_due_at=self._sign_due(order, at),
                       **_recorded(self._clock(order, [handling_step(at)])))
        self._commit(order)

    def redispatch(
        self, ticket_no: str, *, dept: str, assist: Iterable[str], reason: str, actor: Actor
    ) -> None:
        order = self.load(ticket_no)
        assists = [self._dept(a, "assist") for a in assist]
        at = self.now()
        recipe, resumed = self._recipe_after_return(order, at, same_unit=order.paused_by(dept))
        texts = self._free_text()
        order.redispatch(dept=self._dept(dept), assist=assists, reason=texts.mask(reason),
                         actor=actor, at=at, sign_due_at=self._sign_due(order, at),
                         resumed=resumed, **_recorded(self._clock(order, recipe)))
        self._commit_texts(order, texts, actor, at)

    @staticmethod
    def _recipe_after_return(order: WorkOrder, at: datetime,
                             same_unit: bool) -> tuple[list[Step], bool]:
        """The same unit gets its paused clock back, shifted by the time spent 已退回
        (returning an order must not buy the unit a fresh time limit); another unit gets
        a fresh clock."""
        resumed = order.resumed_recipe(at) if same_unit else []
        return (resumed, True) if resumed else ([handling_step(at)], False)

    def _clock(self, order: WorkOrder, recipe: list[Step],
               not_before: datetime | None = None) -> ComputedClock | None:
        """The clock of ``recipe`` on the current calendar; its instants are recorded in
        the event, so replay never needs the policy."""
        if not self.deadlines or not recipe:
            return None
        with self._calendar_known():
            return compute_clock(self.deadlines, order.category, order.urgency, recipe,
                                 not_before)

    def _sign_due(self, order: WorkOrder, at: datetime) -> datetime | None:
        if not self.deadlines:
            return None
        with self._calendar_known():
            return self.deadlines.sign_due(order.urgency, at)

    def sign(self, ticket_no: str, *, dept: str, actor: Actor) -> None:
        order = self.load(ticket_no)
        order.sign(dept=self._dept(dept), actor=actor, at=self.now())
        self._commit(order)

    def return_order(self, ticket_no: str, *, dept: str, reason: str, actor: Actor) -> None:
        order = self.load(ticket_no)
        texts, at = self._free_text(), self.now()
        order.return_order(dept=self._dept(dept), reason=texts.mask(reason), actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    def reject_return(self, ticket_no: str, *, reason: str, actor: Actor) -> None:
        order = self.load(ticket_no)
        at = self.now()
        recipe, resumed = self._recipe_after_return(order, at, same_unit=True)
        texts = self._free_text()
        order.reject_return(reason=texts.mask(reason), actor=actor, at=at, resumed=resumed,
                            **_recorded(self._clock(order, recipe)))
        self._commit_texts(order, texts, actor, at)

    def transfer(
        self, ticket_no: str, *, hotline: str, reference: str, reason: str, actor: Actor
    ) -> None:
        order = self.load(ticket_no)
        texts, at = self._free_text(), self.now()
        order.transfer(hotline=hotline, reference=reference, reason=texts.mask(reason),
                       actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    def request_extension(
        self, ticket_no: str, *, dept: str, days: int, reason: str, actor: Actor
    ) -> None:
        order = self.load(ticket_no)
        texts, at = self._free_text(), self.now()
        order.request_extension(dept=self._dept(dept), days=days, reason=texts.mask(reason),
                                actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    def approve_extension(self, ticket_no: str, *, note: str, actor: Actor) -> None:
        order = self.load(ticket_no)
        clock = self._clock(order, order.extended_recipe())
        fields = _recorded(clock) if clock else {"due_at": order.due_at, "ladder": order.ladder,
                                                 "calendar": order.calendar}
        texts, at = self._free_text(), self.now()
        order.approve_extension(note=texts.mask(note), actor=actor, at=at, **fields)
        self._commit_texts(order, texts, actor, at)

    def deny_extension(self, ticket_no: str, *, reason: str, actor: Actor) -> None:
        order = self.load(ticket_no)
        texts, at = self._free_text(), self.now()
        order.deny_extension(reason=texts.mask(reason), actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    def resolve(self, ticket_no: str, *, dept: str, reply: str, actor: Actor) -> None:
        order = self.load(ticket_no)
        texts, at = self._free_text(), self.now()
        order.resolve(dept=self._dept(dept), reply=texts.mask(reply), actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    def record_callback(self, ticket_no: str, *, result: str, comment: str, actor: Actor) -> None:
        order = self.load(ticket_no)
        at = self.now()
        clock: dict[str, Any] = {}
        if self.deadlines and result == "不满意":  # only a reopening starts a clock
            clock = _recorded(self._clock(order, [reopen_step(at)]))
            clock["dispatch_due_at"] = self.deadlines.dispatch_due(order.urgency, at)
        texts = self._free_text()
        order.record_callback(result=result, comment=texts.mask(comment), actor=actor, at=at,
                              **clock)
        self._commit_texts(order, texts, actor, at)

    def withdraw(self, ticket_no: str, *, reason: str, actor: Actor) -> None:
        order = self.load(ticket_no)
        texts, at = self._free_text(), self.now()
        order.withdraw(reason=texts.mask(reason), actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    def merge(self, ticket_no: str, *, into: str, reason: str, actor: Actor) -> None:
        if ticket_no == into:
            raise InvalidInput("into", "不能将工单并入自身", "cannot merge an order into itself")
        duplicate = self.load(ticket_no)
        master = self.load(into)
        texts, at = self._free_text(), self.now()
        duplicate.merge_into(master=master, reason=texts.mask(reason), actor=actor, at=at)
        self._commit_texts(duplicate, texts, actor, at, master)

    def report_plan(
        self, ticket_no: str, *, dept: str, eta: datetime, note: str, actor: Actor
    ) -> None:
        order = self.load(ticket_no)
        texts, at = self._free_text(), self.now()
        order.report_plan(dept=self._dept(dept), eta=eta.astimezone(UTC), note=texts.mask(note),
                          actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    def escalate_due(self, ticket_no: str) -> list[str]:
        """Take every ladder step that has come due; safe to run concurrently and repeatedly.

        Two engines racing on one order both try to save the same next version; the loser
        gets IntegrityError, reloads, and finds the steps already taken.
        """
        for _attempt in range(5):
            order, steps = self._due_steps(ticket_no)
            if not steps:
                return []
            try:
                self._commit(order)
            except IntegrityError:
                continue
            return steps
        return []

    def escalate_all_due(self, ticket_nos: Sequence[str]) -> dict[str, list[str]]:
        """`escalate_due` for many orders (a tick), their saves sharing transactions
        (GroupCommit.commit_all); an order another engine escalated meanwhile is retried
        alone. Returns the steps taken per order that had any."""
        decided = [(order, steps) for order, steps in map(self._due_steps, ticket_nos) if steps]
        events = [self._collected([order]) for order, _ in decided]
        taken: dict[str, list[str]] = {}
        failure: BaseException | None = None
        for (order, steps), event, error in zip(
                decided, events, self.group_commit.commit_all(events), strict=True):
            if error is None:
                self._saved(event, [order])
                taken[order.ticket_no] = steps
            elif isinstance(error, IntegrityError):
                if retried := self.escalate_due(order.ticket_no):
                    taken[order.ticket_no] = retried
            else:
                failure = failure or error
        if failure is not None:
            raise failure  # after the committed ones were followed up
        return taken

    def _due_steps(self, ticket_no: str) -> tuple[WorkOrder, list[str]]:
        """The order with its due ladder steps taken (not saved), and those steps."""
        order = self.load(ticket_no)
        at = self.now()
        steps = order.due_ladder_steps(at)
        if not steps or order.department is None or order.due_at is None:
            return order, []
        actor = Actor("system", "deadline-ticker")
        for step in steps:
            content = compose_step(
                ticket_no=ticket_no, step=step, clock_no=order.clock_no,
                lead=order.department, citizen_id=order.citizen_id, due_at=order.due_at,
                departments=self.departments,
                supervision_count=len(order.supervision_orders),
                extensions_approved=order.extensions_approved, report_by=order.report_by)
            order.take_ladder_step(step=step, actor=actor, at=at, **content)
        return order, steps

    def revise_deadline(self, ticket_no: str) -> bool:
        """Recompute a running clock whose calendar changed since it was computed (a
        provisional year now has an official arrangement); True when a revision was
        recorded. Idempotent: a clock on the current calendar records nothing."""
        actor = Actor("system", "calendar-revision")
        for _attempt in range(5):
            order = self.load(ticket_no)
            if (not self.deadlines or order.due_at is None or not order.clock_recipe
                    or order.state not in OPEN_STATES):
                return False
            stale = stale_years(order.calendar, self.deadlines.calendar)
            if not stale:
                return False
            at = self.now()
            clock = self._clock(order, order.clock_recipe, not_before=at)
            assert clock is not None
            sign_due = (self._sign_due(order, order.dispatched_at)
                        if order.sign_due_at and order.dispatched_at else None)
            order.revise_deadline(due_at=clock.due_at, ladder=clock.ladder, sign_due_at=sign_due,
                                  calendar=clock.calendar, actor=actor, at=at,
                                  reason=self._revision_reason(order.calendar, clock.calendar,
                                                               stale))
            try:
                self._commit(order)
            except IntegrityError:
                continue
            return True
        return False

    def _revision_reason(self, old: dict[str, str], new: dict[str, str],
                         stale: list[str]) -> str:
        assert self.deadlines
        labels = {"official": "正式", "provisional": "暂定"}
        parts = []
        for year in stale:
            source = self.deadlines.calendar.arrangement(int(year)).source
            before = labels[deadline_basis({year: old[year]}) or "official"]
            after = labels[deadline_basis({year: new[year]}) or "official"]
            parts.append(f"{year}年工作日历由{before}安排更新为{after}安排（{source}）")
        return "；".join(parts) + "，按原规则重新计算时限"

    # ----- holiday arrangements ---------------------------------------------------------
    def import_arrangement(self, content: dict[str, Any], *, replace: bool,
                           actor: Actor) -> dict[str, Any]:
        """Record a holiday arrangement parsed from the State Council notice.

        A year that already has a different arrangement needs ``replace``; importing the
        same days again records nothing. Returns what was done and the version.
        """
        if not self.deadlines:
            raise InvalidInput("calendar", "引擎未配置时限策略", "the engine has no deadline policy")
        year = int(content["year"])
        if not self._calendar_fresh:
            self.refresh_calendar()
        calendar = self.deadlines.calendar
        if year < calendar.first_year or year > calendar.last_year:
            error = CalendarRangeError(year, calendar.first_year, calendar.last_year)
            raise InvalidInput("year", error.zh, error.en)
        at = self.now()
        try:
            existing: HolidayArrangement | None = self.repository.get(arrangement_id(year))
        except AggregateNotFoundError:
            existing = None
        if existing is not None and existing.same_days(content):
            return {"year": year, "action": "unchanged", "version": existing.version}
        if existing is not None and not replace:
            raise InvalidInput(
                "replace",
                f"{year} 年已有导入的安排（v{existing.version}，{existing.title}），"
                "内容不同；如确需替换请加 --replace",
                f"year {year} already has an imported arrangement (v{existing.version}) with "
                "different days; pass --replace to replace it")
        if existing is None:
            record = HolidayArrangement.record(content=content, actor=actor, at=at)
        else:
            record = existing
            record.replace(content=content, actor=actor, at=at)
        self._commit(record)
        self.refresh_calendar()
        return {"year": year, "action": "replaced" if existing else "imported",
                "version": record.version}

    def imported_arrangements(self) -> dict[int, YearArrangement]:
        """Every imported arrangement, by year (one lookup per year the calendar spans)."""
        if not self.deadlines:
            return {}
        calendar = self.deadlines.calendar
        found: dict[int, YearArrangement] = {}
        for year in range(calendar.first_year, calendar.last_year + 2):
            try:
                record: HolidayArrangement = self.repository.get(arrangement_id(year))
            except AggregateNotFoundError:
                continue
            found[year] = record.to_year()
        return found

    def refresh_calendar(self) -> bool:
        """Bring the calendar up to date with the store's imports (another process may
        have imported) and the horizon (the wall clock may have reached a new year); True
        when any year changed."""
        if not self.deadlines:
            return False
        self._calendar_fresh = True
        return self.deadlines.calendar.install(self.imported_arrangements(), self.horizon())

    @contextmanager
    def _calendar_known(self) -> Iterator[None]:
        """Calendar work on this store's arrangements (read once per process, lazily:
        `show` and `list` never need them; the ticker refreshes every tick), with a year
        outside the calendar refused as input."""
        if not self._calendar_fresh:
            self.refresh_calendar()
        with _calendar_known():
            yield

    def record_call(
        self, ticket_no: str, *, call_id: str, purpose: str, outcome: str, attempt: int,
        actor: Actor,
    ) -> None:
        order = self.load(ticket_no)
        order.record_call(call_id=call_id, purpose=purpose, outcome=outcome, attempt=attempt,
                          actor=actor, at=self.now())
        self._commit(order)

    def request_handoff(self, ticket_no: str, *, transcript: str, reason: str,
                        actor: Actor) -> None:
        order, texts, at = self.load(ticket_no), self._free_text(), self.now()
        order.request_handoff(transcript=texts.mask(transcript), reason=texts.mask(reason),
                              actor=actor, at=at)
        self._commit_texts(order, texts, actor, at)

    # ----- queries ----------------------------------------------------------------------
    def view(self, order: WorkOrder, at: datetime | None = None, *,
             reveal: bool = False) -> dict[str, Any]:
        """The JSON shape of `show` (domain/views.py); `at` is the moment the
        time-dependent fields (sla_state) are judged at (default now). `reveal`: personal
        data unmasked (the front end has checked and logged the reveal, domain/access)."""
        personal = self.vault.open(order.citizen_id, order.personal) if order.personal else None
        caller: tuple[str, str | None] = ("available", None)
        if personal is None:
            # No token left (the Erased event cleared it), or a key shredded / locked away.
            caller = (self.vault.closed_reason(order.citizen_id) if order.personal
                      else (ERASED, "已删除 / erased"))
        view = order_view(order, personal, self._sla_state(order, at), caller)
        if reveal and personal:
            return revealed(view, personal, sealed_values(order, self.vault))
        return view

    def _sla_state(self, order: WorkOrder, at: datetime | None = None) -> str | None:
        if order.state not in OPEN_STATES or order.due_at is None or not self.deadlines:
            return None
        return self.deadlines.sla_state(at or self.now(), order.due_at, order.urgency)

    def show(self, ticket_no: str, *, reveal: bool = False) -> dict[str, Any]:
        return self.view(self.load(ticket_no), reveal=reveal)

    def history(self, ticket_no: str, as_of: datetime | None = None) -> dict[str, Any]:
        """The order as it was at `as_of` (default: now) and every event up to then."""
        ticket_no = require_ticket_no(ticket_no)
        events: list[Any] = []
        event: Any
        for event in self.events.get(order_id(ticket_no)):
            if as_of is not None and event.timestamp > as_of:
                break
            events.append(event)
        if not events:
            if as_of is not None:
                self.load(ticket_no)  # raises UnknownTicket if it never existed
                raise InvalidInput(
                    "as_of",
                    f"工单 {ticket_no} 在 {iso(as_of)} 时尚未受理",
                    f"work order {ticket_no} did not exist yet at {iso(as_of)}",
                )
            raise UnknownTicket(ticket_no)
        # As it was at `as_of`: the SLA state is judged then, not now.
        state = self.view(self.load(ticket_no, version=events[-1].originator_version), at=as_of)
        return {"ticket_no": ticket_no, "as_of": iso(as_of) if as_of else None,
                "state": state, "events": [history_entry(e) for e in events]}


def _recorded(clock: ComputedClock | None) -> dict[str, Any]:
    """A clock as the fields of the event that starts it."""
    if clock is None:
        return {"due_at": None, "ladder": None, "calendar": None}
    return {"due_at": clock.due_at, "ladder": clock.ladder, "calendar": clock.calendar}
