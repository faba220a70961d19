"""Human output of the `rexian` CLI: rich tables and panels.

Imported only when a command prints for people (never for `--json`), so a JSON run does not
pay for rich. rich measures East Asian wide characters, so columns of Chinese text line up.

Every value that came from the store or the user goes through `safe()`: unprintable
characters (ESC, NUL, bidi overrides...) are shown escaped (domain.errors.printable) and the
result is a `Text`, never markup, so a reason like "[bold]" or "\\x1b[2J" prints as written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from domain.errors import printable

# The hotline works in Beijing time; stored instants may be in any offset (ladders are UTC).
BEIJING = ZoneInfo("Asia/Shanghai")
SLA_STYLES = {"正常": "green", "临期": "yellow", "超期": "bold red"}
STEP_LABELS = {"warning": "临期提醒", "level1": "一级催办", "level2": "超期督办",
               "level3": "通报", "revised": "时限修订"}
ROLE_LABELS = {"agent": "坐席", "dispatcher": "派单", "department": "单位", "system": "系统",
               "citizen": "市民", "auditor": "审计"}
T = TypeVar("T")


def console(*, stderr: bool = False) -> Console:
    """A console on the current stdout (or stderr): width from the terminal or $COLUMNS
    (80 when piped), colour only on a terminal, no markup or highlighting of our text."""
    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, markup=False,
                   emoji=False, soft_wrap=False)


def print_out(renderable: RenderableType) -> None:
    console().print(renderable)


def safe(value: object, style: str = "") -> Text:
    """Stored or user text as printable, literal Text (control characters escaped)."""
    return Text(printable("" if value is None else str(value)), style=style)


def caller_text(view: dict[str, Any]) -> str:
    """The caller line: masked name and phone, or why they cannot be shown (已删除 after an
    erasure; 不可用 without the key-encryption key)."""
    if view.get("caller_status") in ("erased", "unavailable"):
        return str(view.get("caller_note") or view["caller_status"])
    return f"{view.get('caller_name') or '—'}  {view.get('caller_phone') or ''}"


def when(instant: str | None, seconds: bool = False) -> str:
    """An ISO instant as Beijing wall time, e.g. 2025-11-03 09:00."""
    if not instant:
        return "—"
    try:
        moment = datetime.fromisoformat(instant)
    except ValueError:
        return printable(instant)
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def phone(number: str | None) -> str:
    """A duty phone with its area code split off (0574-87000001); mobiles as they are."""
    digits = number or ""
    if digits.isdigit() and digits.startswith("0") and len(digits) in (11, 12):
        return f"{digits[:-8]}-{digits[-8:]}"
    return printable(digits) or "—"


def state_text(view: dict[str, Any]) -> Text:
    text = safe(view.get("state"), "bold")
    if view.get("substate"):
        text.append("/" + printable(view["substate"]))
    return text


def sla_text(view: dict[str, Any]) -> Text:
    """Deadline, its SLA state and the 暂定 mark of a provisional calendar."""
    text = Text(when(view.get("due_at")))
    if view.get("sla_state"):
        text.append(f"  {view['sla_state']}", style=SLA_STYLES.get(view["sla_state"], ""))
    if view.get("deadline_basis") == "provisional":
        # The year's notice is not imported yet: the deadline may still move.
        text.append("  （暂定日历）", style="yellow")
    return text


def actor_text(actor: dict[str, Any]) -> Text:
    return safe(f"{actor.get('role')}:{actor.get('id')}")


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    return table


# Columns of free text: they wrap. Numbers, names, states and times stay on one line.
_WRAPPING = frozenset({"事由", "理由", "内容", "意见", "原因", "识别文本", "说明", "事件 / 说明",
                       "主办 / 协办", "单位", "区域", "上级"})


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False)
    for name in columns:
        table.add_column(name, overflow="fold", no_wrap=name not in _WRAPPING)
    return table


# ----- show ---------------------------------------------------------------------------
def order_panel(view: dict[str, Any]) -> RenderableType:
    """One order: facts, units, deadlines, then its supervision orders, returns,
    extensions, notices and calls as tables (only those it has)."""
    grid = _grid()
    status = state_text(view)
    for flag in view.get("flags") or []:
        status.append(f"  [{printable(flag)}]", style="red")
    grid.add_row("状态", status)
    grid.add_row("类别", safe(" · ".join(str(view.get(k) or "—")
                                       for k in ("category", "urgency", "channel"))))
    grid.add_row("区域", safe(view.get("region")))
    grid.add_row("来电人", safe(caller_text(view)))
    grid.add_row("诉求", safe(view.get("content")))
    if view.get("department"):
        grid.add_row("主办", safe(view["department"]))
    if view.get("assist_departments"):
        grid.add_row("协办", safe("、".join(view["assist_departments"])))
    if view.get("due_at"):
        grid.add_row("办理期限", sla_text(view))
    for key, label in (("dispatch_due_at", "派单期限"), ("sign_due_at", "签收期限")):
        if view.get(key):
            grid.add_row(label, Text(when(view[key])))
    if view.get("escalation_level"):
        grid.add_row("督办级别", Text(str(view["escalation_level"])))
    for key, label in (("created_at", "受理时间"), ("dispatched_at", "派单时间"),
                       ("signed_at", "签收时间"), ("resolved_at", "办结时间"),
                       ("closed_at", "结案时间")):
        if view.get(key):
            grid.add_row(label, Text(when(view[key])))
    if view.get("plan"):
        plan = view["plan"]
        grid.add_row("处理计划", safe(f"{plan.get('note')}（预计 {when(plan.get('eta'))}）"))
    pending = view.get("pending_extension")
    if pending:
        grid.add_row("待批延期", safe(f"{pending.get('days')} 个工作日：{pending.get('reason')}"))
    if view.get("reply"):
        grid.add_row("办理答复", safe(view["reply"]))
    if view.get("callback"):
        cb = view["callback"]
        comment = f"（{cb['comment']}）" if cb.get("comment") else ""
        grid.add_row("回访", safe(f"{cb.get('result')}{comment} {when(cb.get('at'))}"))
    if view.get("closing_reason"):
        grid.add_row("结案理由", safe(view["closing_reason"]))
    if view.get("merged_into"):
        grid.add_row("并入", safe(view["merged_into"]))
    if view.get("duplicates"):
        grid.add_row("重复工单", safe("、".join(map(str, view["duplicates"]))))
    if view.get("transfer"):
        transfer = view["transfer"]
        grid.add_row("转办", safe(f"{transfer.get('hotline')} {transfer.get('reference')}"))
    parts: list[RenderableType] = [grid]

    def section(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str],
                cells: Callable[[dict[str, Any]], Sequence[Text]]) -> None:
        if rows:
            table = _table(title, *columns)
            for row in rows:
                table.add_row(*cells(row))
            parts.extend([Text(""), table])

    section("督办单", view.get("supervision_orders") or [], ("编号", "类型", "督办单位", "事由", "签发"),
            lambda r: [safe(r.get("no")), safe(r.get("kind")), safe(r.get("dept")),
                       safe(r.get("reason")), Text(when(r.get("issued_at")))])
    section("退单", view.get("returns") or [], ("单位", "理由", "时间"),
            lambda r: [safe(r.get("dept")), safe(r.get("reason")), Text(when(r.get("at")))])
    section("延期", view.get("extensions") or [], ("天数", "理由", "申请", "审批", "意见"),
            lambda r: [Text(str(r.get("days"))), safe(r.get("reason")),
                       Text(when(r.get("requested_at"))),
                       safe(f"{r.get('decision') or '待审批'} {when(r.get('decided_at'))}"),
                       safe(r.get("note") or "")])
    section("通知", view.get("notices") or [], ("环节", "内容", "时间"),
            lambda r: [safe(STEP_LABELS.get(r.get("step", ""), r.get("step"))),
                       safe(r.get("notice")), Text(when(r.get("at")))])
    section("外呼", view.get("call_attempts") or [], ("目的", "结果", "次数", "时间"),
            lambda r: [safe(r.get("purpose")), safe(r.get("outcome")),
                       Text(str(r.get("attempt"))), Text(when(r.get("at")))])
    section("转人工", view.get("handoffs") or [], ("原因", "识别文本", "时间"),
            lambda r: [safe(r.get("reason")), safe(r.get("transcript")), Text(when(r.get("at")))])
    return Panel(Group(*parts), title=safe(f"工单 {view.get('ticket_no')}", "bold"),
                 title_align="left", subtitle=Text(f"v{view.get('version')}"), subtitle_align="right",
                 box=box.ROUNDED, expand=False)


# ----- list ---------------------------------------------------------------------------
def order_table(rows: Sequence[dict[str, Any]]) -> RenderableType:
    if not rows:
        return Text("（无）")
    table = _table(f"工单 {len(rows)} 件", "工单号", "状态", "类别", "紧急", "主办 / 协办", "更新")
    for row in rows:
        units = safe(row.get("department") or "—")
        if row.get("assist_departments"):
            units.append("\n协办：" + printable("、".join(row["assist_departments"])), style="dim")
        table.add_row(safe(row.get("ticket_no")), state_text(row), safe(row.get("category")),
                      safe(row.get("urgency")), units, Text(when(row.get("updated_at"))))
    return table


# ----- history ------------------------------------------------------------------------
def _reason(details: dict[str, Any], key: str = "reason", label: str = "理由") -> str:
    return f"{label}：{details[key]}" if details.get(key) else ""


def _joined(*parts: str) -> str:
    return "；".join(p for p in parts if p)


def _describe_dispatch(d: dict[str, Any], verb: str) -> str:
    assist = f"，协办 {'、'.join(d['assist'])}" if d.get("assist") else ""
    due = f"，期限 {when(d.get('due_at'))}" if d.get("due_at") else ""
    return _joined(f"{verb}给 {d.get('dept')}{assist}{due}", _reason(d))


# What each event did, in one short Chinese line from its details. Unknown types (added
# later, or written by another version) fall back to their class name.
EVENTS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "Registered": ("受理", lambda d: f"{d.get('category')}·{d.get('urgency')}，"
                   f"{d.get('channel')}，{d.get('region')}：{d.get('content')}"),
    "Answered": ("直接答复", lambda d: f"答复：{d.get('reply')}"),
    "DispatchSuggested": ("智能派单建议", lambda d: "、".join(
        f"{s.get('dept')} {s.get('score')}" for s in d.get("suggestions") or [])
        + f"（阈值 {d.get('threshold')}）"),
    "Dispatched": ("派单", lambda d: _describe_dispatch(d, "派")),
    "Redispatched": ("改派", lambda d: _describe_dispatch(d, "改派")),
    "Signed": ("签收", lambda d: f"{d.get('dept')} 签收"),
    "Returned": ("退单", lambda d: _joined(f"{d.get('dept')} 退回", _reason(d))),
    "ReturnRejected": ("退单驳回", lambda d: _joined("退单异议驳回，原单位继续办理", _reason(d))),
    "Transferred": ("一键互转", lambda d: _joined(
        f"转至 {d.get('hotline')}（对方工单 {d.get('reference')}）", _reason(d))),
    "ExtensionRequested": ("申请延期", lambda d: _joined(
        f"{d.get('dept')} 申请延期 {d.get('days')} 个工作日", _reason(d))),
    "ExtensionApproved": ("批准延期", lambda d: _joined(
        f"期限延至 {when(d.get('due_at'))}", _reason(d, "note", "意见"))),
    "ExtensionDenied": ("驳回延期", lambda d: _reason(d)),
    "Resolved": ("办结", lambda d: f"{d.get('dept')} 答复：{d.get('reply')}"),
    "CallbackArchived": ("回访归档", lambda d: _joined(
        f"回访{d.get('result')}，归档", _reason(d, "comment", "意见"))),
    "Reopened": ("重办", lambda d: _joined(
        f"回访不满意，重办，期限 {when(d.get('due_at'))}",
        f"督办单 {(d.get('supervision') or {}).get('no')}" if d.get("supervision") else "",
        _reason(d, "comment", "意见"))),
    "DeadlineRevised": ("时限修订", lambda d: _joined(
        f"期限 {when(d.get('previous_due_at'))} → {when(d.get('due_at'))}", _reason(d))),
    "PlanReported": ("反馈计划", lambda d: f"{d.get('dept')} 预计 {when(d.get('eta'))} 完成："
                     f"{d.get('note')}"),
    "Escalated": ("升级", lambda d: str(d.get("notice") or STEP_LABELS.get(
        d.get("step", ""), d.get("step")))),
    "OutboundCallRequested": ("外呼", lambda d: _joined(
        f"{d.get('purpose')}：呼叫{d.get('target_dept') or '市民'} {phone(d.get('phone'))}"
        if d.get("phone") else f"{d.get('purpose')}：呼叫{d.get('target_dept') or '市民'}")),
    "CallAttempted": ("外呼结果", lambda d: f"{d.get('purpose')} 第{d.get('attempt')}次："
                      f"{d.get('outcome')}"),
    "HumanHandoffRequested": ("转人工", lambda d: _joined(
        _reason(d, "reason", "原因"), _reason(d, "transcript", "识别"))),
    "Withdrawn": ("撤单", lambda d: _reason(d)),
    "Merged": ("并单", lambda d: _joined(f"并入 {d.get('master')}", _reason(d))),
    "DuplicateAttached": ("并入重复单", lambda d: _joined(f"重复工单 {d.get('duplicate')}",
                                                    _reason(d))),
}


def describe(event_type: str, details: dict[str, Any]) -> tuple[str, str]:
    """(Chinese label, one-line description) of a history entry."""
    label, text = EVENTS.get(event_type, (event_type, lambda d: _reason(d)))
    try:
        return label, text(details)
    except (KeyError, TypeError, AttributeError):  # details of another shape: say less
        return label, _reason(details)


def history_view(ticket: str, result: dict[str, Any]) -> RenderableType:
    view = result["state"]
    head = Text.assemble(safe(f"工单 {ticket}  ", "bold"), state_text(view))
    if view.get("department"):
        head.append("  主办：" + printable(view["department"]))
    if view.get("due_at"):
        head.append("  期限：")
        head.append_text(sla_text(view))
    if result.get("as_of"):
        head.append(f"  （截至 {when(result['as_of'], seconds=True)}）", style="dim")
    # Two lines an event (when / who, what / why): readable at 80 columns as well as 200.
    table = _table(f"事件 {len(result['events'])} 条（北京时间）", "版本", "时间 / 操作人",
                   "事件 / 说明")
    for e in result["events"]:
        label, text = describe(e["type"], e.get("details") or {})
        what = Text.assemble(safe(label, "bold"), " ", safe(e["type"], "dim"))
        if text:
            what.append("\n")
            what.append_text(safe(text))
        table.add_row(Text(f"v{e['version']}"),
                      Text.assemble(when(e["at"], seconds=True), "\n", actor_text(e["actor"])),
                      what)
    return Group(head, Text(""), table)


# ----- departments, tick, verify ------------------------------------------------------
def departments_table(rows: Sequence[dict[str, Any]]) -> RenderableType:
    table = _table(f"单位 {len(rows)} 个", "单位", "区域", "上级", "值班电话")
    for r in rows:
        table.add_row(safe(r["name"]), safe(r["region"]), safe(r["supervisor"] or "—"),
                      Text(phone(r["duty_phone"])))
    return table


def tick_table(counts: dict[str, int], names: dict[str, str]) -> RenderableType:
    table = _table("到期检查", "环节", "件数")
    table.columns[1].justify = "right"
    for key, value in counts.items():
        table.add_row(safe(names.get(key, key)), Text(str(value), style="bold" if value else "dim"))
    return table


def verify_view(report: dict[str, Any], anchors: Sequence[tuple[int, str]]) -> RenderableType:
    position = report.get("ledger_position")
    # A server older than VerifyResponse.ledger_position sends none: say so, never "?".
    where = (f"{position}:{report['ledger_head']}" if position is not None
             else f"{report['ledger_head']}（服务端未提供位置 / position not reported)")
    facts = _grid()
    facts.add_row("工单 / orders", Text(str(report["checked_orders"])))
    facts.add_row("事件 / events", Text(str(report["checked_events"])))
    if report.get("unsealed_events"):
        facts.add_row("未入账 / unsealed", Text(str(report["unsealed_events"]), style="red"))
    facts.add_row("账本头 / ledger head", Text("（发布为锚点 / publish as an anchor）",
                                                style="dim"))
    # On a line of its own: the head is copied whole into `verify --anchor`, never folded.
    head = Text(where, no_wrap=True, overflow="ignore")
    if report["ok"]:
        return Panel(Group(facts, head), title="完整性校验通过 / OK", title_align="left",
                     border_style="green", expand=False)
    problems = _table("", "工单", "版本", "类型", "说明")
    for p in report["problems"]:
        kind = p.get("kind")
        ticket = p.get("ticket_no")
        # Anchor problems concern the ledger, not an order: no ticket, no version.
        problems.add_row(safe(ticket if ticket is not None else "（账本 / ledger）"),
                         Text("—" if p.get("version") is None else f"v{p['version']}"),
                         safe(kind), safe(p.get("message")))
    notes: list[RenderableType] = []
    beyond = [a for a, _ in anchors if position is not None and a > position]
    if beyond:
        notes.append(safe(f"锚点位置 {'、'.join(map(str, beyond))} 超出账本当前位置 {position}："
                          f"账本被截断，或锚点来自另一个事件库 / anchor position beyond the "
                          f"ledger head {position}: the ledger was truncated or the anchor "
                          f"belongs to another store", "yellow"))
    return Panel(Group(facts, head, Text(""), problems, *notes), title="篡改 / TAMPERED",
                 title_align="left", border_style="red", expand=False)


@contextmanager
def progress_reporter(description: str) -> Iterator[Callable[[int, int], None] | None]:
    """A `(done, total)` callback that draws a progress bar on stderr when it is a
    terminal; None otherwise."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def progress(items: Iterable[T], total: int, description: str) -> Iterator[T]:
    """`items` with a progress bar on stderr when stderr is a terminal; plain otherwise
    (pipes, logs and tests get no bar and no escape codes)."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield from items
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
