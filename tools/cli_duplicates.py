"""`rexian duplicates T|alerts|scan`: candidate duplicates of an order (并单建议) and the
mass-complaint alerts (群诉预警), from adapters/duplicates.py.

* `duplicates T`: the open orders of T's area within the window that read alike, best
  first, each with its score and the `rexian merge` that merges the later into the earlier;
* `duplicates alerts [--area A]`: every 群诉预警, the most recently grown first (its
  events: `rexian history QS…`);
* `duplicates scan`: examine the orders registered since the last scan (intake on the CLI
  does it itself; orders taken over gRPC wait for a scan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.errors import InvalidInput, printable
from tools.cli_base import Command, JsonOpt

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

TargetArg = Annotated[str, typer.Argument(
    metavar="TICKET|alerts|scan", help="工单号，或 alerts（群诉预警列表）、scan（检测新工单）")]
# The permission-matrix operation of each form: reading candidates, reading alerts, and the
# engine's own detection step (recorded as the system, like a tick).
OPERATIONS = {"alerts": "mass_complaints", "scan": "tick"}


def candidates_text(result: dict[str, Any]) -> str:
    lines = [f"{result['ticket_no']}（{result['area']}，{result['window_days']} 天内，"
             f"相似度 ≥ {result['threshold']}）"]
    if not result["candidates"]:
        lines.append("  无疑似重复工单 / no candidate duplicates")
    for c in result["candidates"]:
        lines.append(f"  {c['score']:.2f}  {c['ticket_no']} {c['state']}  {c['content'][:40]}")
        if c["merge"]:
            lines.append(f"        {c['merge']}")
    return printable("\n".join(lines))


def alerts_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "无群诉预警 / no mass-complaint alerts"
    return printable("\n".join(
        f"{r['alert']} {r['area']}：{r['members']} 件 / {r['citizens']} 人，"
        f"{r['updated_at'][:16].replace('T', ' ')}  {r['summary'][:40]}" for r in rows))


def scan_text(done: list[dict[str, Any]]) -> str:
    if not done:
        return "无新的群诉预警 / no new mass-complaint alerts"
    return "\n".join(f"{d['ticket_no']} → {d['alert']} {d['action']}（{d['members']} 件 / "
                     f"{d['citizens']} 人）" for d in done)


def register(app: typer.Typer, run: Any) -> None:
    """Add `duplicates` to the CLI (tools.cli's `run`)."""

    @app.command(name="duplicates", cls=Command)
    def duplicates(ctx: typer.Context, target: TargetArg,
                   area: Annotated[str | None, typer.Option(
                       "--area", metavar="REGION", help="With alerts: only this area")] = None,
                   as_json: JsonOpt = False) -> None:
        """Candidate duplicates of an order (并单建议), or the 群诉预警 (alerts, scan)."""
        from adapters.duplicates import DuplicateDesk

        def action(engine: Engine) -> Any:
            if area is not None and target != "alerts":
                raise InvalidInput("area", "--area 只能与 alerts 同用",
                                   "--area goes with `duplicates alerts` only")
            desk = DuplicateDesk(engine)
            if target == "alerts":
                return desk.alerts(area)
            if target == "scan":
                return desk.scan()
            return desk.candidates(target)

        text = {"alerts": alerts_text, "scan": scan_text}.get(target, candidates_text)
        run(ctx, as_json, action, text, operation=OPERATIONS.get(target, "duplicates"))
