"""`rexian projections`: how far each read model has followed the log, and rebuilding them.

A rebuild drops a read model's tables and refills them from the whole notification log
(a new projection version, a repaired table); on a big store that is minutes of work, so a
terminal shows a progress bar (log position reached / log head). Readers running meanwhile
see the table refill; the department feed keeps its units' acknowledged positions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.errors import InvalidInput
from tools.cli_base import Command, Group, JsonOpt

if TYPE_CHECKING:
    from adapters.bootstrap import Engine
    from projections.runner import ProjectionRunner

projections_app = typer.Typer(cls=Group, no_args_is_help=True, help="Read models (投影): "
                              "their position in the event log; rebuild from the log.")


def runners(engine: Engine) -> dict[str, ProjectionRunner]:
    """Every read model of a local engine by name, the department feed included."""
    from adapters.follower import all_runners

    return all_runners(engine)


def known_names(known: dict[str, ProjectionRunner], names: list[str]) -> list[str]:
    """`names`, refused with the `known` ones listed when any is unknown."""
    unknown = [n for n in names if n not in known]
    if unknown:
        allowed = ", ".join(known)
        raise InvalidInput("projection", f"未知投影：{'、'.join(unknown)}（可选：{allowed}）",
                           f"unknown projection {', '.join(unknown)!s} (known: {allowed})")
    return names


def status(engine: Engine) -> dict[str, Any]:
    head = engine.service.recorder.max_notification_id() or 0
    rows = [{"name": name, "position": runner.position(), "head": head,
             "behind": head - runner.position()} for name, runner in runners(engine).items()]
    return {"head": head, "projections": rows}


def chosen(engine: Engine, names: list[str], every: bool) -> dict[str, ProjectionRunner]:
    if every == bool(names):
        raise InvalidInput("projection", "请指定要重建的投影名称，或使用 --all",
                           "name the projections to rebuild, or pass --all (not both)")
    known = runners(engine)
    return known if every else {n: known[n] for n in known_names(known, names)}


def status_table(result: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"事件日志位置 / log head: {result['head']}", title_justify="left")
    for head, justify in (("投影 / projection", "left"), ("已处理 / position", "right"),
                          ("落后 / behind", "right")):
        table.add_column(head, justify=justify)  # type: ignore[arg-type]
    for row in result["projections"]:
        behind = f"[yellow]{row['behind']}[/]" if row["behind"] else "0"
        table.add_row(row["name"], str(row["position"]), behind)
    return table


def register(app: typer.Typer, run: Any) -> None:
    """Add `projections status` and `projections rebuild` to the CLI (tools.cli's `run`)."""
    app.add_typer(projections_app, name="projections")

    @projections_app.command(name="status", cls=Command)
    def status_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
        """Each read model's position in the event log, and how far it is behind."""
        run(ctx, as_json, status, status_table, operation="projections")

    @projections_app.command(name="rebuild", cls=Command)
    def rebuild(ctx: typer.Context,
                names: Annotated[list[str] | None, typer.Argument(
                    metavar="NAME...", help="Projections to rebuild (see `status`)")] = None,
                every: Annotated[bool, typer.Option("--all", metavar="",
                                                    help="Rebuild every projection")] = False,
                as_json: JsonOpt = False) -> None:
        """Drop read models and refill them from the whole event log (progress bar on a
        terminal)."""

        def action(engine: Engine) -> dict[str, Any]:
            from tools.cli_render import progress_reporter

            done = []
            for name, runner in chosen(engine, names or [], every).items():
                with progress_reporter(f"重建 {name} / rebuilding") as report:
                    done.append({"name": name, "applied": runner.rebuild(report)})
            return {"rebuilt": done}

        def text(result: dict[str, Any]) -> str:
            return "\n".join(f"已重建 / rebuilt {r['name']}: {r['applied']} 个事件 / events"
                             for r in result["rebuilt"])

        run(ctx, as_json, action, text, operation="projections")

    @projections_app.command(name="follow", cls=Command)
    def follow(ctx: typer.Context,
               names: Annotated[list[str] | None, typer.Argument(
                   metavar="NAME...", help="Projections to follow (default: all)")] = None,
               interval: Annotated[float, typer.Option(
                   "--interval", metavar="SECONDS",
                   help="Poll interval when no notification arrives")] = 1.0,
               as_json: JsonOpt = False) -> None:
        """Keep read models current until stopped (Ctrl-C / SIGTERM): woken by PostgreSQL
        LISTEN/NOTIFY, polling on SQLite. Run one beside N `serve` workers (docs/deployment.md)."""

        def action(engine: Engine) -> dict[str, Any]:
            import signal
            import threading

            from adapters.follower import follow_store, follow_until

            chosen_names = known_names(runners(engine), names or [])
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            follower, listener = follow_store(engine, chosen_names, stop, interval)
            wake = "LISTEN/NOTIFY" if listener is not None else "polling"
            typer.echo(f"跟随中 / following: "
                       f"{', '.join(r.projection.name for r in follower.runners)} ({wake})",
                       err=True)
            follow_until(follower, listener, stop)
            return {"applied": follower.applied}

        run(ctx, as_json, action,
            lambda r: f"已停止 / stopped: {r['applied']} 个事件已应用 / events applied",
            operation="projections")
