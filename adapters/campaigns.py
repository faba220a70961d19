"""The campaign desk: what the front ends (CLI, gRPC) call for each entry of the campaign
catalogue (domain/campaign/commands.py), and the scheduler's tick.

It joins the handlers (domain/campaign/service.py) to what lives outside the domain: the
contact files (adapters/campaign_files.py), the do-not-call list, the progress read model
(projections/campaign_progress.py) and the export files.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from adapters.campaign_files import FORMATS, RejectedRows, check_file, valid_rows
from adapters.sms import LoggingSms
from domain.campaign import states
from domain.campaign.commands import BY_NAME
from domain.campaign.defaults import DEFAULT_LEASE_S
from domain.campaign.errors import UnknownCampaign
from domain.campaign.service import CampaignService
from domain.errors import InvalidInput, PermissionDenied, shown
from domain.phone import mask_name, mask_phone, normalize_phone
from domain.ports import SmsSender
from domain.values import Actor, require_text
from domain.views import iso
from projections import campaign_progress as progress
from projections.runner import ProjectionRunner

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

DO_NOT_CALL = "rexian_do_not_call"
RUNNER = "campaign_progress"
# Contacts asked of the read model per campaign per tick (more than any line cap).
DUE_BATCH = 1000
# 结果依据: what the last outcome was read from (the gateway's SIP/Q.850 cause, the carrier's
# announcement heard): the department that published a flagged number can check it.
EXPORT_HEADER = ("序号", "对象编号", "姓名", "电话", "状态", "呼叫次数", "最后结果", "标记", "说明",
                 "结果依据")
FLAGS_HEADER = ("序号", "对象编号", "姓名", "电话", "标记", "呼叫次数", "结果依据", "标记时间",
                "说明")
# What a reveal of a campaign's contacts is logged against (domain/access/access_log.py).
TARGET_CAMPAIGN = "campaign"
# Seconds between looks at the read model while watching a campaign (status live, the
# WatchCampaign stream).
WATCH_INTERVAL_S = 1.0
# Places a call: (contact id, call id) -> None; the outcome comes back through
# record_outcome (the dialler's job; tests and scenarios play the gateway).
Placer = Callable[[str, str], None]


class DoNotCallList:
    """Numbers never to be called, by their keyed digest (the vault's pepper): the list
    holds no phone number a database reader could use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.db.schema_transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {DO_NOT_CALL} (digest TEXT PRIMARY KEY, "
                        "reason TEXT NOT NULL, added_by TEXT NOT NULL, added_at TEXT NOT NULL)")

    def add(self, phone: str, reason: str, actor: Actor) -> bool:
        digest = self.engine.vault.phone_digest(phone)
        with self.engine.db.transaction() as cur:
            return cur.execute(
                f"INSERT INTO {DO_NOT_CALL} (digest, reason, added_by, added_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING",
                (digest, reason, f"{actor.role}:{actor.id}",
                 datetime.now(UTC).isoformat())).rowcount > 0

    def checker(self) -> Callable[[str], bool]:
        """A membership test for one import (the list read once: it is short)."""
        with self.engine.db.transaction(immediate=False) as cur:
            digests = {r[0] for r in cur.execute(f"SELECT digest FROM {DO_NOT_CALL}").fetchall()}
        if not digests:
            return lambda phone: False
        return lambda phone: self.engine.vault.phone_digest(phone) in digests


class CampaignDesk:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.service = CampaignService(engine.service)
        self.do_not_call = DoNotCallList(engine)
        # A campaign's text messages (--sms): the SMS port, whose default adapter only logs.
        self.sms: SmsSender = LoggingSms()

    @property
    def runner(self) -> ProjectionRunner:
        return self.engine.runners[RUNNER]

    def execute(self, command: str, ref: str | None = None, *, actor: Actor,
                **fields: Any) -> dict[str, Any]:
        """Run one catalogue entry; every front end comes through here."""
        spec = BY_NAME.get(command)
        if spec is None:
            raise InvalidInput("command", f"未知命令“{shown(command)}”", f"unknown command {command!r}")
        handler: Callable[..., dict[str, Any]] = getattr(self, spec.name)
        return handler(ref, actor=actor, **fields) if spec.ticket else handler(actor=actor,
                                                                               **fields)

    # ----- commands -------------------------------------------------------------------
    def create_campaign(self, *, actor: Actor, script: str | Path | bytes | None = None,
                        **fields: Any) -> dict[str, Any]:
        if script and fields.get("kind") != "survey":
            raise InvalidInput("script", "只有民意调研（survey）使用问卷文件",
                               "only a survey takes a questionnaire (--script)")
        questionnaire = read_script(script) if script else None
        return {"campaign_id": self.service.create_campaign(actor=actor, script=questionnaire,
                                                            **fields)}

    def import_contacts(self, ref: str, *, file: str | Path, skip_invalid: bool = False,
                        actor: Actor, source: str | None = None,
                        on_progress: Callable[[int, int], None] | None = None
                        ) -> dict[str, Any]:
        path = Path(file)
        self.service.campaign(ref)  # an unknown campaign is refused before reading
        checked = check_file(path, self.do_not_call.checker(), on_progress)
        self.service.check_columns(ref, checked.variables, has_name=checked.has_name,
                                   source=shown(source or path.name, 80))
        if checked.rejected and not skip_invalid:
            raise RejectedRows(checked)
        if checked.valid == 0:
            raise InvalidInput("file", f"名单文件 {shown(path.name, 80)} 没有有效的联系人",
                               f"contact file {shown(path.name, 80)} holds no valid contact")
        imported = self.service.import_contacts(
            ref, valid_rows(checked), count=checked.valid, rejected=len(checked.rejected),
            source=source or path.name, sha256=checked.sha256, actor=actor,
            on_progress=on_progress)
        return {"campaign_id": ref, "imported": imported,
                "rejected": [r.as_dict() for r in checked.rejected]}

    def start_campaign(self, ref: str, *, actor: Actor) -> dict[str, Any]:
        self.service.start_campaign(ref, actor=actor)
        return self.campaign_status(ref, actor=actor)

    def pause_campaign(self, ref: str, *, reason: str = "", actor: Actor) -> dict[str, Any]:
        self.service.pause_campaign(ref, reason=reason, actor=actor)
        return self.campaign_status(ref, actor=actor)

    def resume_campaign(self, ref: str, *, actor: Actor) -> dict[str, Any]:
        self.service.resume_campaign(ref, actor=actor)
        return self.campaign_status(ref, actor=actor)

    def cancel_campaign(self, ref: str, *, reason: str, actor: Actor) -> dict[str, Any]:
        self.service.cancel_campaign(ref, reason=reason, actor=actor)
        return self.campaign_status(ref, actor=actor)

    def block_number(self, *, phone: str, reason: str, actor: Actor) -> dict[str, Any]:
        number = normalize_phone(phone)
        added = self.do_not_call.add(number, require_text("reason", reason, "理由", 200), actor)
        return {"phone": mask_phone(number), "added": added}

    # ----- queries ----------------------------------------------------------------------
    def campaign_status(self, ref: str, *, actor: Actor | None = None) -> dict[str, Any]:
        campaign = self.service.campaign(ref)
        self.runner.catch_up()
        with self.engine.db.transaction(immediate=False) as cur:
            found = progress.progress(cur, campaign.ref)
        if found is None:  # the read model lags behind a store it never saw: rebuild
            raise UnknownCampaign(ref)
        found["start_at"] = iso(campaign.start_at)
        found["dept"] = campaign.dept
        found["answers"] = answer_distribution(campaign.script, found["answers"])
        return found

    def watch(self, ref: str, *, actor: Actor | None = None,
              interval: float = WATCH_INTERVAL_S,
              stop: Callable[[float], bool] | None = None) -> Iterator[dict[str, Any]]:
        """The campaign's progress now, then each time it changes, until the campaign is
        closed (已完成/已取消) or `stop(seconds)` — which waits up to that long — says
        the watcher has gone (default: time.sleep, never stops)."""
        wait = stop or _sleep
        last: dict[str, Any] | None = None
        while True:
            status = self.campaign_status(ref, actor=actor)
            if status != last:
                yield status
                last = status
            if status["state"] in states.CLOSED_CAMPAIGN_STATES or wait(interval):
                return

    def export_campaign(self, ref: str, *, file: str | Path, reveal: bool = False,
                        reason: str = "", actor: Actor,
                        on_progress: Callable[[int, int], None] | None = None
                        ) -> dict[str, Any]:
        """Each contact's outcome and survey answers (a column per question), as CSV or
        XLSX (by the suffix); names and phones masked unless `reveal` (the front end has
        checked the role and logged the reveal: domain/access). `on_progress(done,
        total)` after each page of contacts."""
        path = _export_path(file)
        campaign = self.service.campaign(ref)
        self.runner.catch_up()
        questions = [q["id"] for q in (campaign.script or {}).get("questions", [])]
        header = EXPORT_HEADER + tuple(f"{q} {_question_text(campaign.script, q)}"
                                       for q in questions)
        rows = self._export_rows(campaign.ref, questions, reveal, on_progress,
                                 campaign.contacts)
        count = _write(path, header, rows, "外呼结果")
        return {"campaign_id": campaign.ref, "exported": count, "file": str(path),
                "revealed": reveal}

    def campaign_flags(self, ref: str, *, csv: str | Path | None = None, reveal: bool = False,
                       reason: str = "", actor: Actor) -> dict[str, Any]:
        """The campaign's flagged numbers (空号/停机/…) with what each flag was read from,
        for the department that published the list; `csv` also writes them (.csv/.xlsx).
        Masked unless `reveal` (checked and logged by the front end)."""
        path = _export_path(csv) if csv else None
        campaign = self.service.campaign(ref)
        if actor.role == "department" and actor.id.split("/", 1)[0] != campaign.dept:
            refusal = PermissionDenied(
                f"承办单位只能查看本单位发布的外呼名单的标记号码（{shown(ref)} 的发布单位："
                f"{campaign.dept or '未指定'}）", f"a unit may list the flagged numbers of the "
                f"lists it published only ({shown(ref)} was published by "
                f"{campaign.dept or 'no unit'})")
            self.engine.access.failed(actor, "campaign_flags", refusal,
                                      target_kind=TARGET_CAMPAIGN, target=campaign.ref)
            raise refusal
        self.runner.catch_up()
        numbers = list(self._flag_rows(campaign.ref, reveal))
        counts: dict[str, int] = {}
        for entry in numbers:
            counts[entry["flag"]] = counts.get(entry["flag"], 0) + 1
        result: dict[str, Any] = {"campaign_id": campaign.ref, "name": campaign.name,
                                  "dept": campaign.dept, "state": campaign.state, "flags": counts,
                                  "numbers": numbers, "revealed": reveal}
        if path is not None:
            result["exported"] = _write(path, FLAGS_HEADER,
                                        (tuple(n.values()) for n in numbers), "标记号码")
            result["file"] = str(path)
        return result

    def _read_contact(self, ref: str) -> Any:
        """A contact to read, not to change: the repository's cached copy as it is (its
        deep copy, made for commands, was a third of an export's time)."""
        from domain.campaign.campaign import campaign_uuid

        return self.engine.service.repository.get(campaign_uuid(ref), deepcopy_from_cache=False)

    def _person(self, contact: Any, reveal: bool) -> tuple[str, str]:
        """(name, phone) masked, unmasked for a reveal, or why neither can be shown."""
        data = self.engine.vault.open(contact.citizen_id, contact.personal)
        if data is None:
            return (self.engine.vault.closed_reason(contact.citizen_id)[1],) * 2
        return (data.name, data.phone) if reveal else (mask_name(data.name),
                                                       mask_phone(data.phone))

    def _export_rows(self, ref: str, questions: list[str], reveal: bool,
                     on_progress: Callable[[int, int], None] | None = None, total: int = 0
                     ) -> Iterator[tuple[Any, ...]]:
        after, done = 0, 0
        while True:
            with self.engine.db.transaction(immediate=False) as cur:
                page = progress.contact_refs(cur, ref, after, 500)
                answers = progress.contact_answers(cur, [c for _, c in page])
            if not page:
                return
            for number, contact_ref in page:
                contact = self._read_contact(contact_ref)
                name, phone = self._person(contact, reveal)
                last = contact.outcomes[-1] if contact.outcomes else {}
                given = answers.get(contact_ref, {})
                yield (number, contact.ref, name, phone, contact.state, contact.attempts,
                       last.get("outcome", ""), contact.flag or "", contact.finished_reason or "",
                       last.get("detail", ""), *(given.get(q, "") for q in questions))
            after, done = page[-1][0], done + len(page)
            if on_progress is not None:
                on_progress(done, max(total, done))

    def _flag_rows(self, ref: str, reveal: bool) -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            with self.engine.db.transaction(immediate=False) as cur:
                page = progress.flagged_contacts(cur, ref, after, 500)
            if not page:
                return
            for number, contact_ref, flag in page:
                contact = self._read_contact(contact_ref)
                name, phone = self._person(contact, reveal)
                last = contact.outcomes[-1] if contact.outcomes else {}
                yield {"number": number, "contact_id": contact_ref, "name": name,
                       "phone": phone, "flag": flag, "attempts": contact.attempts,
                       "detail": last.get("detail", ""), "flagged_at": last.get("at", ""),
                       "reason": contact.finished_reason or ""}
            after = page[-1][0]

    # ----- the scheduler ----------------------------------------------------------------
    def tick(self, placer: Placer | None = None, *, limit: int | None = None,
             lease_s: float = DEFAULT_LEASE_S) -> dict[str, int]:
        """One scheduling step over every scheduled or running campaign: resolve calls
        whose claim ran out without an outcome (their dialler died), begin campaigns whose
        start has come, dial what the hours and caps allow (through `placer`, at most
        `limit` calls in all, each claimed for `lease_s`; without a placer nothing is
        dialled), complete those with no open contact. Returns counts."""
        counts = {"began": 0, "dialled": 0, "completed": 0, "interrupted": 0}
        self.runner.catch_up()
        counts["interrupted"] = self.resolve_expired(lease_s)
        with self.engine.db.transaction(immediate=False) as cur:
            refs = progress.campaigns_in(cur, (states.SCHEDULED, states.RUNNING))
        room = limit
        for ref in refs:
            with self.engine.db.transaction(immediate=False) as cur:
                remaining = progress.open_contacts(cur, ref)
            done = self.service.advance(ref, open_contacts=remaining)
            if done:
                counts[done] += 1
            if placer is None or room == 0 or self.service.campaign(ref).state != states.RUNNING:
                continue
            self.runner.catch_up()
            now = self.service.now()
            with self.engine.db.transaction(immediate=False) as cur:
                due = progress.due_contacts(cur, ref, now, DUE_BATCH)
                in_flight, recent = progress.lines_in_use(cur, ref, now)
            plan = self.service.plan_dials(ref, due=due, in_flight=in_flight,
                                           recent_dials=recent)
            for contact in plan.contacts[:room]:
                # Recorded (and so claimed) before the call is placed: a crash between the
                # two leaves a claim that expires, never a call nobody knows about.
                call_id = self.service.dial(contact.ref, attempt=contact.attempt,
                                            lease_s=lease_s)
                counts["dialled"] += 1
                placer(contact.ref, call_id)
            if room is not None:
                room = max(0, room - len(plan.contacts[:room]))
        self.runner.catch_up()
        return counts

    def resolve_expired(self, lease_s: float = DEFAULT_LEASE_S) -> int:
        """Calls of running or paused campaigns in progress for longer than `lease_s`
        whose recorded claim has run out: each is recorded as interrupted (未接通, retried
        under the shared budget). Returns how many."""
        now = self.service.now()
        with self.engine.db.transaction(immediate=False) as cur:
            refs = progress.campaigns_in(cur, (states.RUNNING, states.PAUSED))
            stale = [c for ref in refs for c in progress.calls_dialled_before(
                cur, ref, now - timedelta(seconds=lease_s))]
        resolved = 0
        for contact_ref in stale:
            try:
                resolved += self.service.resolve_expired(contact_ref)
            except IntegrityError:
                pass  # its dialler recorded the outcome just now, or another process did
        if resolved:
            self.runner.catch_up()
        return resolved

    def wake_at(self, ref: str) -> datetime | None:
        """When the campaign could dial next (for a scheduler that sleeps until then)."""
        self.runner.catch_up()
        now = self.service.now()
        with self.engine.db.transaction(immediate=False) as cur:
            due = progress.due_contacts(cur, ref, now, DUE_BATCH)
            in_flight, recent = progress.lines_in_use(cur, ref, now)
            retry = progress.next_retry(cur, ref)
        plan = self.service.plan_dials(ref, due=due or [], in_flight=in_flight,
                                       recent_dials=recent)
        if plan.contacts:
            return now
        # A retry already due is among `due`, and the plan says when the hours let it be
        # dialled: only a retry still to come can wake the scheduler earlier.
        upcoming = retry if retry is not None and retry > now else None
        candidates = [t for t in (plan.wake_at, upcoming) if t is not None]
        return min(candidates) if candidates else None


def read_script(script: str | Path | bytes) -> dict[str, Any]:
    """A questionnaire file (TOML, domain/campaign/survey.py) as checked data; a malformed
    one is refused naming the line."""
    from domain.campaign.survey import parse_survey

    name = "script.toml" if isinstance(script, bytes) else Path(script).name
    try:
        raw = script if isinstance(script, bytes) else Path(script).read_bytes()
        text = raw.decode("utf-8")
    except OSError as error:
        raise InvalidInput("script", f"无法读取问卷文件 {shown(name, 80)}：{shown(error, 200)}",
                           f"cannot read the questionnaire {shown(name, 80)}: "
                           f"{shown(error, 200)}") from None
    except UnicodeDecodeError:
        raise InvalidInput("script", f"问卷文件 {shown(name, 80)} 不是 UTF-8 编码",
                           f"the questionnaire {shown(name, 80)} is not UTF-8") from None
    return parse_survey(text, name)


def answer_distribution(script: dict[str, Any] | None, counts: dict[str, dict[str, int]]
                        ) -> dict[str, dict[str, int]]:
    """Per question (questionnaire order), every answer of its closed set with its count
    (0 included), then any other label recorded (the unrecognised marker); questions the
    questionnaire does not list come last."""
    shown_answers: dict[str, dict[str, int]] = {}
    for question in (script or {}).get("questions", []):
        given = counts.get(question["id"], {})
        row = {answer: given.get(answer, 0) for answer in question["answers"]}
        row.update({k: v for k, v in given.items() if k not in row})
        shown_answers[question["id"]] = row
    for question, given in counts.items():
        shown_answers.setdefault(question, dict(given))
    return shown_answers


def _question_text(script: dict[str, Any] | None, question_id: str) -> str:
    for question in (script or {}).get("questions", []):
        if question["id"] == question_id:
            return str(question["text"])
    return ""


def _sleep(seconds: float) -> bool:
    import time

    time.sleep(seconds)
    return False


def _export_path(file: str | Path) -> Path:
    path = Path(file)
    if path.suffix.lower() not in FORMATS:
        raise InvalidInput("file", "导出文件应为 .csv 或 .xlsx", "the export file must be .csv or .xlsx")
    return path


def _write(path: Path, header: tuple[str, ...], rows: Iterable[tuple[Any, ...]],
           sheet: str) -> int:
    """`header` and `rows` as CSV or XLSX by `path`'s suffix; returns the rows written."""
    try:
        if path.suffix.lower() == ".xlsx":
            return _write_xlsx(path, header, rows, sheet)
        return _write_csv(path, header, rows)
    except OSError as error:
        raise InvalidInput("file", f"无法写入导出文件：{shown(error, 200)}",
                           f"cannot write the export file: {shown(error, 200)}") from None


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _write_xlsx(path: Path, header: tuple[str, ...], rows: Iterable[tuple[Any, ...]],
                title: str) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # streams rows: memory stays flat
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    count = 0
    for row in rows:
        sheet.append(list(row))
        count += 1
    book.save(path)
    return count


def desk(engine: Engine) -> CampaignDesk:
    """The engine's campaign desk (made on first use: commands that never touch campaigns
    pay nothing for it)."""
    found: CampaignDesk | None = getattr(engine, "_campaign_desk", None)
    if found is None:
        if RUNNER not in engine.runners:
            engine.runners[RUNNER] = ProjectionRunner(engine.service, engine.db,
                                                      progress.CampaignProgress())
        found = CampaignDesk(engine)
        engine._campaign_desk = found  # type: ignore[attr-defined]
    return found
