"""Telephony reports → domain commands, idempotently (shared by gRPC and the Kafka consumer).

Telephony and ASR adapters report dial outcomes, transcripts and recognised intents.
`apply_report(engine, report)` turns one report into at most a few domain commands:

* intent 满意 / 基本满意 / 不满意 → `record_callback(result=intent)` (不满意 reopens);
  intent 转人工 → `request_handoff` (the citizen asked for a human agent);
* dial outcome answered / no_answer / busy / 空号 / 停机 with a call id → `record_call`;
* a failed dial whose attempts are exhausted (outcome `exhausted`, or
  `attempts_exhausted` set) on a callback call of an order in 已办结 →
  `record_callback(result="无法联系")`;
* transcripts alone and other intents change nothing (they are still marked processed).

Idempotency: the table `rexian_processed_reports` (report_id primary key, same database
as the events) records every report. A report id is first *claimed* (status pending),
the commands run, then the row is marked done; a report id seen before returns False and
changes nothing. The claim and the event store are two transactions, so a crash can
leave a pending claim whose commands were (partly) saved: every command a report causes
is recorded with the actor `robot:<adapter>#<report_id>`, and a retry skips the commands
whose events already carry that actor. A pending claim younger than `STALE_CLAIM_S`
belongs to another worker that is applying it right now: it counts as a duplicate.

Commands the lifecycle refuses (the order is not in 已办结 any more, unknown ticket...)
consume the report: it is marked done with the refusal as `detail` (never retried).
A malformed report (no id, no ticket, unknown kind) raises InvalidInput and is not marked.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.sqldb import SqlDatabase
from domain.errors import DomainError, InvalidInput
from domain.values import Actor, require_text
from domain.workorder import order_id

TABLE = "rexian_processed_reports"
STALE_CLAIM_S = 60.0
KINDS = ("dial_outcome", "transcript", "intent")
CALLBACK_INTENTS = ("满意", "基本满意", "不满意")
HANDOFF_INTENTS = ("转人工", "人工服务", "human")
# Dial outcomes as the domain records them (CallAttempted.outcome), from what adapters say.
_OUTCOMES = {
    "answered": "answered", "接通": "answered",
    "no_answer": "no_answer", "无人接听": "no_answer",
    "busy": "busy", "占线": "busy",
    "空号": "空号", "number_invalid": "空号", "invalid_number": "空号",
    "停机": "停机", "number_suspended": "停机", "suspended": "停机",
}
EXHAUSTED = ("exhausted", "尝试用尽")
# Purposes of calls whose failure means the callback (回访) could not reach the citizen.
CALLBACK_PURPOSES = ("", "回访", "callback")


@dataclass(frozen=True)
class TelephonyReport:
    """One report from a telephony/ASR adapter (the Avro record's fields, plus extras)."""

    report_id: str
    ticket_no: str
    kind: str  # dial_outcome | transcript | intent
    outcome: str | None = None
    attempts_exhausted: bool = False
    transcript: str | None = None
    intent: str | None = None
    at: datetime | None = None
    call_id: str = ""
    purpose: str = ""
    attempt: int = 0
    adapter: str = "telephony"


@dataclass(frozen=True)
class ReportResult:
    report_id: str
    duplicate: bool
    action: str  # comma-separated commands performed, or "none"
    detail: str = ""


_lock = threading.Lock()
_ready: weakref.WeakSet[SqlDatabase] = weakref.WeakSet()


def ensure_table(db: SqlDatabase) -> None:
    if db in _ready:
        return
    with db.schema_transaction() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (report_id TEXT PRIMARY KEY, "
            "ticket_no TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, "
            "action TEXT NOT NULL, detail TEXT NOT NULL, claimed_at DOUBLE PRECISION NOT NULL)")
    _ready.add(db)


def apply_report(engine: Any, report: TelephonyReport) -> bool:
    """Apply one report; False when its report id was seen before (nothing changed)."""
    return not apply_report_detailed(engine, report).duplicate


def apply_report_detailed(engine: Any, report: TelephonyReport) -> ReportResult:
    """Like apply_report, with what was done (for the gRPC response)."""
    _validate(report)
    db: SqlDatabase = engine.db
    ensure_table(db)
    with _lock:
        if not _claim(db, report):
            return ReportResult(report.report_id, True, "none", "duplicate report id")
        actions, detail = _perform(engine, report)
        action = ",".join(actions) or "none"
        with db.transaction() as cur:
            cur.execute(f"UPDATE {TABLE} SET status = 'done', action = ?, detail = ? "
                        "WHERE report_id = ?", (action, detail, report.report_id))
        return ReportResult(report.report_id, False, action, detail)


def _validate(report: TelephonyReport) -> None:
    require_text("report_id", report.report_id, "报告编号", 150)
    require_text("ticket_no", report.ticket_no, "工单号", 50)
    if report.kind not in KINDS:
        raise InvalidInput("kind", f"报告类型“{report.kind}”无效，可选：{'、'.join(KINDS)}",
                           f"invalid kind {report.kind!r}; expected one of {', '.join(KINDS)}")
    require_text("adapter", report.adapter, "适配器", 40)


def _claim(db: SqlDatabase, report: TelephonyReport) -> bool:
    """Claim the report id; False when it was processed (or is being processed) elsewhere."""
    now = time.time()
    with db.transaction() as cur:
        cur.execute(f"INSERT INTO {TABLE} (report_id, ticket_no, kind, status, action, detail, "
                    "claimed_at) VALUES (?, ?, ?, 'pending', '', '', ?) "
                    "ON CONFLICT (report_id) DO NOTHING",
                    (report.report_id, report.ticket_no, report.kind, now))
        if cur.rowcount == 1:
            return True
        row = cur.execute(f"SELECT status, claimed_at FROM {TABLE} WHERE report_id = ?",
                          (report.report_id,)).fetchone()
        if row is None or row[0] == "done" or now - float(row[1]) < STALE_CLAIM_S:
            return False
        # A claim left behind by a crashed worker: take it over (evidence check follows).
        cur.execute(f"UPDATE {TABLE} SET claimed_at = ? WHERE report_id = ?",
                    (now, report.report_id))
        return True


def _robot(report: TelephonyReport) -> Actor:
    return Actor("robot", f"{report.adapter}#{report.report_id}")


def _done_by(engine: Any, report: TelephonyReport, actor: Actor) -> set[str]:
    """Event types already saved for this report (by an attempt that crashed before marking)."""
    try:
        events = engine.service.events.get(order_id(report.ticket_no))
        return {type(e).__name__ for e in events if getattr(e, "actor_id", None) == actor.id}
    except Exception:  # noqa: BLE001 - an unknown ticket has no evidence
        return set()


def _perform(engine: Any, report: TelephonyReport) -> tuple[list[str], str]:
    service = engine.service
    actor = _robot(report)
    done = _done_by(engine, report, actor)
    actions: list[str] = []
    try:
        if report.kind == "intent":
            intent = (report.intent or "").strip()
            if intent in CALLBACK_INTENTS:
                if not done & {"CallbackArchived", "Reopened"}:
                    service.record_callback(report.ticket_no, result=intent,
                                            comment=(report.transcript or "").strip(),
                                            actor=actor)
                actions.append("record_callback")
            elif intent in HANDOFF_INTENTS:
                if "HumanHandoffRequested" not in done:
                    service.request_handoff(report.ticket_no,
                                            transcript=(report.transcript or "").strip(),
                                            reason="回访中市民要求转人工", actor=actor)
                actions.append("request_handoff")
            else:
                return actions, f"intent {intent!r} needs no command"
        elif report.kind == "dial_outcome":
            raw = (report.outcome or "").strip()
            outcome = _OUTCOMES.get(raw)
            if outcome:
                if "CallAttempted" not in done:
                    service.record_call(report.ticket_no,
                                        call_id=report.call_id or report.report_id,
                                        purpose=report.purpose or "回访", outcome=outcome,
                                        attempt=max(report.attempt, 1), actor=actor)
                actions.append("record_call")
            exhausted = raw in EXHAUSTED or report.attempts_exhausted
            if exhausted and outcome != "answered" and report.purpose in CALLBACK_PURPOSES:
                order = service.load(report.ticket_no)
                if not done & {"CallbackArchived", "Reopened"}:
                    if order.state != "已办结":
                        return actions, (f"callback not recorded: order is {order.state}")
                    service.record_callback(report.ticket_no, result="无法联系",
                                            comment=f"回访外呼未接通（{raw or '尝试用尽'}）",
                                            actor=actor)
                actions.append("record_callback")
            if not actions:
                return actions, f"dial outcome {raw!r} needs no command"
        else:
            return actions, "transcript noted; no command"
    except DomainError as error:
        return actions, f"refused: {error.en}"
    return actions, ""
