"""How `rexian campaign status` and `rexian campaign flags` look to people (rich): the
progress panel (redrawn live by `status` until the campaign ends) and the flag table.
Imported only when people read the output (--json never loads rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tools.cli_render import safe

# The figure each kind adds: a survey's answers, a notification heard, a broadcast's hand-offs.
KIND_ROWS = (("survey", "answered", "已作答 answered"), ("notification", "heard", "确认听清 heard"),
             ("broadcast", "handed_off", "转人工 handed off"))


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def status_panel(status: dict[str, Any]) -> RenderableType:
    """The campaign's counters, flags, outcomes and the answers to each question."""
    contacts, called = int(status["contacts"]), int(status["contacts_dialled"])
    counts = Table.grid(padding=(0, 2))
    counts.add_column(justify="right", style="bold")
    counts.add_column(justify="right")
    counts.add_column()
    for label, value, note in (
        ("名单 contacts", contacts, ""),
        ("已拨 dialled", status["dialled"], f"{called} 个对象 / contacts"),
        ("接通 connected", status["connected"], f"接通率 {_rate(int(status['connected']), called)}"),
        ("接通到人 reached", status.get("reached", 0), _rate(int(status.get("reached", 0)), contacts)),
        *[(label, status.get(key, 0), "") for kind, key, label in KIND_ROWS
          if kind == status.get("kind")],
        ("完成 completed", status["completed"], _rate(int(status["completed"]), contacts)),
        ("呼叫中 in progress", status["in_progress"], ""),
        ("待呼 waiting", status["waiting"], ""),
        ("待重试 retries pending", status["pending_retries"], ""),
    ):
        counts.add_row(label, str(value), note)
    parts: list[RenderableType] = [counts]
    flags = status.get("flags") or {}
    parts.append(safe("标记 flags: " + ("、".join(f"{k} {v}" for k, v in flags.items()) or "无")))
    outcomes = status.get("outcomes") or {}
    if outcomes:
        parts.append(safe("呼叫结果 outcomes: " + "、".join(f"{k} {v}" for k, v in outcomes.items())))
    for question, answers in (status.get("answers") or {}).items():
        total = sum(int(v) for v in answers.values())
        table = Table(title=f"{question}（{total} 人作答 / answered）", title_justify="left",
                      show_header=False, box=None, padding=(0, 2))
        table.add_column()
        table.add_column(justify="right")
        table.add_column(justify="right")
        for answer, count in answers.items():
            table.add_row(safe(answer), str(int(count)), _rate(int(count), total))
        parts.append(table)
    publisher = f" 发布单位 {status['dept']}" if status.get("dept") else ""
    title = Text(f"{status['campaign_id']} {status.get('name', '')} "
                 f"（{status.get('kind', '')}）{publisher}  {status['state']}")
    return Panel(Group(*parts), title=title, title_align="left")


def flags_table(result: dict[str, Any]) -> RenderableType:
    """The flagged numbers with what each flag was read from."""
    counts = "、".join(f"{k} {v}" for k, v in result["flags"].items()) or "无 / none"
    publisher = f"（发布单位 {result['dept']}）" if result.get("dept") else ""
    table = Table(title=f"{result['campaign_id']} {result.get('name', '')}{publisher} 标记号码 / "
                  f"flagged numbers：{counts}", title_justify="left")
    for column in ("序号", "对象编号", "姓名", "电话", "标记", "呼叫次数", "结果依据"):
        table.add_column(column)
    for entry in result["numbers"]:
        table.add_row(str(entry["number"]), safe(entry["contact_id"]), safe(entry["name"]),
                      safe(entry["phone"]), safe(entry["flag"]), str(entry["attempts"]),
                      safe(entry["detail"]))
    parts: list[RenderableType] = [table]
    if result.get("file"):
        parts.append(safe(f"已写入 / written: {result['file']}（{result.get('exported', 0)} 行 / rows）"))
    return Group(*parts)
