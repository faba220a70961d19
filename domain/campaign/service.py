"""The campaign handlers: load → one command → save, through the work-order service's
group commit (the same event store, audit ledger and vault as the work orders).

Checks that need the outside world (the working-day calendar, the vault) happen here,
before any aggregate records anything. What the read models know (which contacts are due,
lines in use) is handed in by the caller (adapters/campaigns.py): domain/ reads no tables.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from domain.campaign import machines as m
from domain.campaign import states
from domain.campaign.campaign import Campaign, campaign_uuid
from domain.campaign.contact import Contact
from domain.campaign.defaults import (
    DEFAULT_AFTER,
    DEFAULT_LEASE_S,
    DEFAULT_LINES,
    DEFAULT_PER_MINUTE,
    DEFAULT_WINDOWS,
    KINDS,
)
from domain.campaign.dialogue import Answered, Confirmed, Entry, HandOff, Said
from domain.campaign.errors import UnknownCampaign
from domain.campaign.pacing import CallingHours, Pacing
from domain.campaign.retries import RetryRules
from domain.campaign.states import NO_ANSWER
from domain.campaign.template import (
    NAME_VARIABLES,
    contact_values,
    missing_columns,
    render,
    variables,
)
from domain.errors import InvalidInput
from domain.histories import aggregate_history
from domain.policies.calendar import CalendarRangeError
from domain.ports import PersonalData
from domain.values import Actor, require_choice, require_ticket_no
from domain.views import SHANGHAI, iso

if TYPE_CHECKING:
    from domain.service import WorkOrderService

ENGINE = Actor("system", "campaign-scheduler")
OUTBOUND_CHANNEL = "外呼"
# Where a work order opened from a survey answer is (the contact file's column, if any).
REGION_COLUMNS = ("所属区域", "区域", "小区", "地址", "街道")
UNKNOWN_REGION = "待核实"
CONTACT_NAME = "外呼对象"  # an order's caller name when the contact file gave none
# The detail of the outcome recorded for a call whose dialler died (domain/campaign/contact.py).
INTERRUPTED = "interrupted"
# Contacts sealed and saved per transaction while importing (memory stays bounded).
IMPORT_BATCH = 500


@dataclass(frozen=True)
class ContactRow:
    """One valid row of a contact file (adapters/campaign_files.py reads and checks them)."""

    row: int  # the row number in the file (the header is row 1)
    phone: str  # normalised (domain.phone.normalize_phone)
    name: str
    variables: dict[str, str]


@dataclass(frozen=True)
class DueContact:
    """A contact the read model says may be dialled (待呼, or 待重试 past its instant)."""

    ref: str
    attempt: int  # the attempt its next dial would be
    due_at: datetime | None  # retry_after, None for a first call


@dataclass(frozen=True)
class DialPlan:
    contacts: list[DueContact]
    wake_at: datetime | None  # when the next dial could start (None: nothing waits)


def new_campaign_ref(at: datetime) -> str:
    """CP + Beijing date + 6 hex digits: short enough to type, unique in practice (a clash
    is refused by the store and another is drawn)."""
    return f"CP{at.astimezone(SHANGHAI):%Y%m%d}{secrets.token_hex(3).upper()}"


def seal_variables(variables: dict[str, str]) -> tuple[str, ...]:
    """Template variables ride in the vault token's `extra` as one JSON object (they are
    about the person: amounts, deadlines, plate numbers)."""
    return (json.dumps(variables, ensure_ascii=False, sort_keys=True),) if variables else ()


def opened_variables(data: PersonalData) -> dict[str, str]:
    return dict(json.loads(data.extra[0])) if data.extra else {}


class CampaignService:
    def __init__(self, app: WorkOrderService) -> None:
        self.app = app
        self._calendar_fresh = False

    # ----- plumbing -------------------------------------------------------------------
    def now(self) -> datetime:
        return self.app.now()

    def _get(self, ref: str, kind: type[Any] | tuple[type[Any], ...]) -> Any:
        ref = require_ticket_no(ref, "campaign_id")
        try:
            found: Any = self.app.repository.get(campaign_uuid(ref))
        except AggregateNotFoundError:
            raise UnknownCampaign(ref) from None
        if not isinstance(found, kind):
            raise UnknownCampaign(ref)
        return found

    def campaign(self, ref: str) -> Campaign:
        found: Campaign = self._get(ref, Campaign)
        return found

    def contact(self, ref: str) -> Contact:
        found: Contact = self._get(ref, Contact)
        return found

    @contextmanager
    def _calendar(self) -> Iterator[Any]:
        """The store's working-day calendar (its imported arrangements read once), with a
        year outside it refused as input."""
        deadlines = self.app.deadlines
        if deadlines is None:
            raise InvalidInput("calendar", "引擎未配置工作日历", "the engine has no working-day calendar")
        if not self._calendar_fresh:
            self.app.refresh_calendar()
            self._calendar_fresh = True
        try:
            yield deadlines.calendar
        except CalendarRangeError as error:
            raise InvalidInput("calendar", error.zh, error.en) from error

    # ----- commands -------------------------------------------------------------------
    def create_campaign(
        self, *, kind: str, name: str, message: str = "", script: dict[str, Any] | None = None,
        start: datetime | None = None, window: Sequence[str] = (), lines: int = DEFAULT_LINES,
        per_minute: int = DEFAULT_PER_MINUTE, max_retries: int = RetryRules().budget,
        no_answer_retry_min: int | None = None, busy_retry_min: int | None = None,
        off_retry_min: int | None = None, allow_rest_days: bool = False, dept: str = "",
        sms: str = "", actor: Actor,
    ) -> str:
        require_choice("kind", kind, KINDS, "外呼类型")
        publisher = self.app._dept(dept.strip()) if dept and dept.strip() else None
        if kind == "survey" and not script:
            raise InvalidInput("script", "民意调研需要问卷文件（--script FILE.toml）",
                               "a survey needs its questionnaire (--script FILE.toml)")
        if kind != "survey" and not (message or "").strip():
            raise InvalidInput("message", "事项通知和政策宣导需要播报内容（--message）",
                               "notifications and broadcasts need a message (--message)")
        if sms and kind == "survey":
            raise InvalidInput("sms", "只有事项通知和政策宣导可以附带短信（--sms）",
                               "only notifications and broadcasts send a text message (--sms)")
        variables(message or "")  # a malformed template is refused now, not on a call
        variables(sms or "", "sms", "短信内容")
        after = dict(DEFAULT_AFTER)
        for outcome, minutes in ((NO_ANSWER, no_answer_retry_min), ("忙", busy_retry_min),
                                 ("关机", off_retry_min)):
            if minutes is not None:
                after[outcome] = minutes
        rules = Campaign.check_rules(
            CallingHours.parse(window or DEFAULT_WINDOWS, allow_rest_days),
            Pacing(lines, per_minute), RetryRules(max_retries, after))
        at = self.now()
        for _attempt in range(10):
            ref = new_campaign_ref(at)
            if self.app.recorder.select_events(campaign_uuid(ref), limit=1):
                continue
            campaign = Campaign.create(ref=ref, kind=kind, name=name, message=message,
                                       script=script, start_at=start, rules=rules,
                                       actor=actor, at=at, dept=publisher, sms=sms)
            self.app._commit(campaign)
            return ref
        raise RuntimeError("could not draw a free campaign id")

    def check_columns(self, ref: str, columns: Sequence[str], *, has_name: bool,
                      source: str) -> None:
        """The campaign's templates (message, SMS) name only columns of the contact file
        about to be imported (or 姓名, optional): a missing one is refused, naming it and
        the file's columns (nothing imported)."""
        campaign = self.campaign(ref)
        missing = [name for text in (campaign.message, campaign.sms)
                   for name in missing_columns(text, columns)]
        if missing:
            names = "、".join(dict.fromkeys(f"{{{name}}}" for name in missing))
            known = "、".join([*(("姓名",) if has_name else ()), *columns]) or "无"
            raise InvalidInput("file", f"名单文件 {source} 缺少播报内容引用的列：{names}（名单的列："
                               f"{known}），未导入任何联系人",
                               f"the contact file {source} lacks the column(s) the message "
                               f"names: {names} (its columns: {known}); nothing was imported")

    def import_contacts(self, ref: str, rows: Iterable[ContactRow], *, count: int,
                        rejected: int, source: str, sha256: str, actor: Actor,
                        on_progress: Callable[[int, int], None] | None = None) -> int:
        """Seal each contact in the vault and enrol it, IMPORT_BATCH per transaction; the
        campaign records the import last. `rows` were checked already (every row valid,
        or the invalid ones left out on purpose)."""
        campaign = self.campaign(ref)
        # Refused before anything is sealed when the campaign's state forbids it.
        m.next_state(m.CAMPAIGN, f"外呼任务 {ref}", campaign.state, "import_contacts")
        import_no, number, done = len(campaign.imports) + 1, campaign.contacts, 0
        batch: list[Contact] = []
        staged: list[Any] = []
        for row in rows:
            number += 1
            citizen_id, token, key_write = self.app.vault.seal(PersonalData(
                name=row.name, phone=row.phone, extra=seal_variables(row.variables)))
            batch.append(Contact.enrol(campaign_ref=ref, number=number, import_no=import_no,
                                       citizen_id=citizen_id, personal=token, actor=actor,
                                       at=self.now()))
            if key_write is not None:
                staged.append(key_write)
            if len(batch) >= IMPORT_BATCH:
                done += self._save_batch(batch, staged)
                if on_progress:
                    on_progress(done, count)
        done += self._save_batch(batch, staged)
        if on_progress:
            on_progress(done, count)
        if done != count:  # the file changed between the check and the import
            raise InvalidInput("file", f"名单文件在导入过程中被修改（应有 {count} 行，读到 {done} 行）",
                               f"the contact file changed while importing ({count} rows "
                               f"expected, {done} read)")
        campaign.record_import(import_no=import_no, count=count, rejected=rejected,
                               source=source, sha256=sha256, actor=actor, at=self.now())
        self.app._commit(campaign)
        return done

    def _save_batch(self, batch: list[Contact], staged: list[Any]) -> int:
        saved = len(batch)
        if batch:
            self.app._commit(*batch, staged=list(staged))
        batch.clear()
        staged.clear()
        return saved

    def start_campaign(self, ref: str, *, actor: Actor) -> None:
        """排期: from its start time (now when none or past); begins at once when due."""
        campaign = self.campaign(ref)
        if campaign.contacts == 0:
            raise InvalidInput("contacts", f"外呼任务 {ref} 还没有导入名单",
                               f"campaign {ref} has no contacts yet")
        at = self.now()
        start_at = max(campaign.start_at, at) if campaign.start_at else at
        campaign.schedule(start_at=start_at, actor=actor, at=at)
        if start_at <= at:
            campaign.begin(actor=ENGINE, at=at)
        self.app._commit(campaign)

    def pause_campaign(self, ref: str, *, reason: str = "", actor: Actor) -> None:
        campaign = self.campaign(ref)
        campaign.pause(reason=reason, actor=actor, at=self.now())
        self.app._commit(campaign)

    def resume_campaign(self, ref: str, *, actor: Actor) -> None:
        campaign = self.campaign(ref)
        campaign.resume(actor=actor, at=self.now())
        self.app._commit(campaign)

    def cancel_campaign(self, ref: str, *, reason: str, actor: Actor) -> None:
        campaign = self.campaign(ref)
        campaign.cancel(reason=reason, actor=actor, at=self.now())
        self.app._commit(campaign)

    # ----- the engine's own steps -------------------------------------------------------
    def advance(self, ref: str, *, open_contacts: int) -> str | None:
        """Begin a scheduled campaign whose start has come; complete a running one with
        no open contact left. Returns what was done (None: nothing)."""
        campaign = self.campaign(ref)
        at = self.now()
        if campaign.state == states.SCHEDULED and campaign.start_at and campaign.start_at <= at:
            campaign.begin(actor=ENGINE, at=at)
            done = "began"
        elif campaign.state == states.RUNNING and open_contacts == 0:
            campaign.complete(actor=ENGINE, at=at)
            done = "completed"
        else:
            return None
        self.app._commit(campaign)
        return done

    def plan_dials(self, ref: str, *, due: Sequence[DueContact], in_flight: int,
                   recent_dials: Sequence[datetime]) -> DialPlan:
        """Which of `due` to dial now: none unless the campaign runs and its calling hours
        are open; at most what the line and per-minute caps leave. `wake_at` tells when
        dialling could resume (hours opening, a minute slot, a retry instant)."""
        campaign = self.campaign(ref)
        at = self.now()
        if campaign.state != states.RUNNING or not due:
            return DialPlan([], None)
        with self._calendar() as calendar:
            opens = campaign.hours.next_open(at, calendar)
        ready = [c for c in due if c.due_at is None or c.due_at <= at]
        later = [c.due_at for c in due if c.due_at is not None and c.due_at > at]
        if opens > at:
            return DialPlan([], opens)
        pacing = campaign.pacing
        room = pacing.capacity(at, in_flight, recent_dials)
        chosen = ready[:room]
        wake: datetime | None = None
        if len(ready) > len(chosen) and in_flight + len(chosen) < pacing.lines:
            wake = pacing.next_slot(at, [*recent_dials, *([at] * len(chosen))])
        elif later:
            wake = min(later)
        return DialPlan(chosen, wake)

    def dial(self, ref: str, *, attempt: int, lease_s: float = DEFAULT_LEASE_S,
             actor: Actor = ENGINE) -> str:
        """Record the start of a call to contact `ref`, claimed for `lease_s` seconds;
        returns its call id. Refused when the campaign does not run or its hours are
        closed now (the dialler checks nothing itself)."""
        contact = self.contact(ref)
        campaign = self.campaign(contact.campaign_ref)
        at = self.now()
        if campaign.state != states.RUNNING:
            raise InvalidInput("state", f"外呼任务 {campaign.ref} 当前为“{campaign.state}”，不能呼叫",
                               f"campaign {campaign.ref} is {campaign.state}: no calls")
        with self._calendar() as calendar:
            if not campaign.hours.is_open(at, calendar):
                raise InvalidInput("window", f"现在不在外呼任务 {campaign.ref} 的呼叫时段内",
                                   f"campaign {campaign.ref}'s calling hours are closed now")
        call_id = str(uuid.uuid4())
        contact.dial(attempt=attempt, call_id=call_id, lease_until=at + timedelta(seconds=lease_s),
                     actor=actor, at=at)
        self.app._commit(contact)
        return call_id

    def resolve_expired(self, ref: str, *, actor: Actor = ENGINE) -> bool:
        """Contact `ref`'s call has no outcome and its claim has run out (its dialler
        died): record 未接通 with the detail "interrupted", retried or finished by the
        shared budget like any unanswered call. False when there is nothing to resolve
        (the call ended meanwhile, or its lease still runs)."""
        contact = self.contact(ref)
        at = self.now()
        if not contact.lease_expired(at, timedelta(seconds=DEFAULT_LEASE_S)):
            return False
        campaign = self.campaign(contact.campaign_ref)
        until = contact.lease_until or at
        contact.record_outcome(call_id=contact.call_id or "", outcome=NO_ANSWER,
                               rules=campaign.retry_rules, actor=actor, at=at,
                               detail=f"{INTERRUPTED}: no outcome by the end of its lease "
                                      f"({until.isoformat()})")
        self.app._commit(contact)
        return True

    def abandon_call(self, ref: str, *, call_id: str, reason: str, retry_in_s: float,
                     actor: Actor = ENGINE) -> None:
        """The gateway never took the call: give the attempt back, due again later."""
        contact = self.contact(ref)
        at = self.now()
        contact.abandon(call_id=call_id, reason=reason[:500],
                        retry_after=at + timedelta(seconds=retry_in_s), actor=actor, at=at)
        self.app._commit(contact)

    def record_outcome(self, ref: str, *, call_id: str, outcome: str, detail: str = "",
                       entries: Sequence[Entry] = (), actor: Actor = ENGINE) -> list[str]:
        """Record how call `call_id` ended and, for a connected call, what it said and
        heard (`entries`, domain/campaign/dialogue.py): each sentence, answer,
        confirmation and hand-off on the contact, then the outcome, in one commit. A survey
        answer matching one of the campaign's [[work_orders]] rules opens a work order
        first (channel 外呼, through intake). Returns the work orders' numbers."""
        contact = self.contact(ref)
        campaign = self.campaign(contact.campaign_ref)
        require_choice("outcome", outcome, states.OUTCOMES, "呼叫结果")
        if entries:
            contact.check_call(call_id)  # refused before any work order is opened
        opened = self._open_work_orders(campaign, contact, entries)
        at = self.now()
        for entry in entries:
            record_entry(contact, call_id, entry, campaign, actor, at)
        for (question, answer), ticket_no in opened:
            contact.work_order_opened(call_id=call_id, question=question, answer=answer,
                                      ticket_no=ticket_no, actor=actor, at=at)
        contact.record_outcome(call_id=call_id, outcome=outcome, rules=campaign.retry_rules,
                               actor=actor, at=at, detail=detail)
        self.app._commit(contact)
        return [ticket_no for _, ticket_no in opened]

    def record_sms(self, ref: str, *, call_id: str, phone: str, message: str,
                   actor: Actor = ENGINE) -> None:
        """The campaign's text message was handed to the SMS gateway after call `call_id`
        (`message`: the gateway's id; the number is recorded masked)."""
        contact = self.contact(ref)
        contact.sms_sent(call_id=call_id, phone=phone, message=message, actor=actor,
                         at=self.now())
        self.app._commit(contact)

    def _open_work_orders(self, campaign: Campaign, contact: Contact,
                          entries: Sequence[Entry]) -> list[tuple[tuple[str, str], str]]:
        rules = (campaign.script or {}).get("work_orders") or []
        answered = [e for e in entries if isinstance(e, Answered)]
        matches = [(e, rule) for e in answered for rule in rules
                   if rule["question"] == e.question and rule["answer"] == e.answer]
        if not matches:
            return []
        data = self.app.vault.open(contact.citizen_id, contact.personal)
        if data is None or not data.phone:
            return []  # erased meanwhile: nobody to open an order for
        columns = opened_variables(data)
        region = next((columns[c] for c in REGION_COLUMNS if columns.get(c, "").strip()),
                      UNKNOWN_REGION)
        opened = []
        for entry, rule in matches:
            ticket_no = self.app.intake(
                channel=OUTBOUND_CHANNEL, category=rule["category"], urgency="一般",
                region=region[:100], content=work_order_content(campaign, contact, entry),
                caller_name=(data.name or CONTACT_NAME)[:50], caller_phone=data.phone,
                actor=ENGINE)
            opened.append(((entry.question, entry.answer), ticket_no))
        return opened

    # ----- queries ----------------------------------------------------------------------
    def history(self, ref: str, as_of: datetime | None = None) -> dict[str, Any]:
        """A campaign or a contact as it was at `as_of` and every event up to then."""
        found = self._get(ref, (Campaign, Contact))
        return aggregate_history(self.app, found.id, ref, as_of, lambda then: (
            campaign_view(then) if isinstance(then, Campaign) else self.contact_view(then)))

    def contact_view(self, contact: Contact) -> dict[str, Any]:
        """A contact with its personal data masked (or why it cannot be shown)."""
        from domain.phone import mask_name, mask_phone

        data = self.app.vault.open(contact.citizen_id, contact.personal)
        person: dict[str, Any]
        if data is None:
            _, why = self.app.vault.closed_reason(contact.citizen_id)
            person = {"name": why, "phone": why}
        else:
            person = {"name": mask_name(data.name), "phone": mask_phone(data.phone)}
        values = (contact_values(data.name, opened_variables(data)) if data is not None
                  else None)
        return {"contact_id": contact.ref, "campaign_id": contact.campaign_ref,
                "number": contact.number, **person, "state": contact.state,
                "attempts": contact.attempts, "retry_after": iso(contact.retry_after),
                "outcomes": contact.outcomes, "flag": contact.flag,
                "finished_reason": contact.finished_reason,
                "said": [said_view(s, values) for s in contact.said],
                "answers": dict(contact.answers), "heard": contact.heard,
                "handoff": contact.handoff, "work_orders": list(contact.work_orders),
                "sms": list(contact.sms), "version": contact.version}


def said_view(said: dict[str, Any], values: dict[str, str] | None) -> dict[str, Any]:
    """A sentence said, as the citizen heard it: the campaign message rendered with the
    contact's variables, its name masked (the view shows no personal data); the template
    as written when the vault no longer opens."""
    from domain.phone import mask_name

    text = said["text"]
    if said.get("template") and values is not None:
        text = render(text, {k: mask_name(v) if k in NAME_VARIABLES else v
                             for k, v in values.items()})
    return {"kind": said["kind"], "text": text, "call_id": said["call_id"]}


def record_entry(contact: Contact, call_id: str, entry: Entry, campaign: Campaign,
                 actor: Actor, at: datetime) -> None:
    """One entry of a call's record on the contact."""
    if isinstance(entry, Said):
        contact.say(call_id=call_id, kind=entry.kind, text=entry.text, template=entry.template,
                    actor=actor, at=at)
    elif isinstance(entry, Answered):
        contact.answer(call_id=call_id, question=entry.question, answer=entry.answer,
                       transcript=entry.transcript, actor=actor, at=at)
    elif isinstance(entry, Confirmed):
        contact.confirm(call_id=call_id, heard=entry.heard, answer=entry.answer,
                        transcript=entry.transcript, repeats=entry.repeats, actor=actor, at=at)
    elif isinstance(entry, HandOff):
        contact.hand_off(call_id=call_id, reason=entry.reason, transcript=entry.transcript,
                         context={"campaign_id": campaign.ref, "campaign": campaign.name,
                                  "kind": campaign.kind, "message": campaign.message},
                         actor=actor, at=at)


def work_order_content(campaign: Campaign, contact: Contact, entry: Answered) -> str:
    """What the order says: the campaign, the question and the answer, the citizen's words."""
    questions = {q["id"]: q for q in (campaign.script or {}).get("questions", [])}
    text = questions.get(entry.question, {}).get("text", entry.question)
    said = f"市民原话：{entry.transcript}。" if entry.transcript else ""
    return (f"外呼任务“{campaign.name}”（{campaign.ref}，对象 {contact.ref}）民意调研，问题 "
            f"{entry.question}“{text}”，回答“{entry.answer}”。{said}")


def campaign_view(campaign: Campaign) -> dict[str, Any]:
    return {"campaign_id": campaign.ref, "kind": campaign.kind, "name": campaign.name,
            "message": campaign.message, "state": campaign.state,
            "start_at": iso(campaign.start_at), "rules": campaign.rules,
            "contacts": campaign.contacts, "imports": campaign.imports,
            "pauses": campaign.pauses, "created_at": iso(campaign.created_at),
            "began_at": iso(campaign.began_at), "closed_at": iso(campaign.closed_at),
            "reason": campaign.reason, "version": campaign.version}
