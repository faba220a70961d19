"""`rexian campaign ...`: the campaign commands, generated from their catalogue
(domain/campaign/commands.py): one typer command per entry, ID when the entry takes the
campaign id, one option per field, --json.

Import and export show a progress bar on a terminal (tools.cli_render.progress_reporter).
A file with invalid rows exits 2 naming every rejected row (and, with --json, lists them
as {"row", "reason"}); nothing is imported unless --skip-invalid.

`status` on a terminal redraws the progress live (rich.live) until the campaign is closed
or Ctrl-C; `--once` (or a pipe) prints it once. `--reveal --reason` (export, flags) is
checked against the permission matrix and logged before anything unmasked is built.
With `--grpc HOST:PORT` every command goes to CampaignService (live status follows its
WatchCampaign stream).
"""

from __future__ import annotations

import inspect
import json
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.campaign.commands import CATALOGUE
from domain.commands import CommandSpec, Field
from domain.errors import DomainError, printable
from domain.values import Actor
from tools.cli_base import Command, Group, JsonOpt

if TYPE_CHECKING:
    from rich.console import RenderableType

    from adapters.bootstrap import Engine

campaign_app = typer.Typer(cls=Group, no_args_is_help=True, help="Outbound campaigns (批量外呼): "
                           "notifications, broadcasts and surveys with pacing and retries.")
IdArg = Annotated[str, typer.Argument(metavar="ID", help="Campaign id (CP…)")]
OnceOpt = Annotated[bool, typer.Option("--once", help="Print the progress once instead of "
                                       "redrawing it until the campaign ends")]
IntervalOpt = Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between "
                                            "looks while redrawing")]
_TYPES: dict[str, Any] = {"text": str, "texts": list[str], "int": int, "instant": str,
                          "flag": bool, "file": str}
_METAVARS = {"text": "TEXT", "texts": "TEXT", "int": "N", "instant": "ISO8601", "flag": "",
             "file": "FILE"}


def actor_of(context: Any, engine: Engine, spec: CommandSpec) -> Actor:
    """Who acts: the local OS user in --role (or the entry's own role), checked against the
    permission matrix like every command (tools.cli.Context.authorise); a remote server
    acts as its token's identity."""
    if not context.grpc:
        context.authorise(engine, spec.name)
    actor: Actor = context.actor()
    return actor


def check_reveal(context: Any, engine: Engine, ref: str | None, values: dict[str, Any]) -> None:
    """--reveal: the local user's role may reveal and gave --reason, logged in the access
    log before anything unmasked is built (a remote server checks its token itself)."""
    if not values.get("reveal") or context.grpc:
        return
    from adapters.campaigns import TARGET_CAMPAIGN

    engine.access.reveal(context.identity, reason=values.get("reason"),
                         target_kind=TARGET_CAMPAIGN, target=ref or "")


def campaign_desk(engine: Engine) -> Any:
    """The engine's campaign desk: local, or a remote engine's over gRPC."""
    remote = getattr(type(engine), "campaign_desk", None)
    if remote is not None:
        return remote(engine)
    from adapters.campaigns import desk

    return desk(engine)


def _value(field: Field, value: Any) -> Any:
    from tools.cli import parse_instant

    if field.kind == "texts":
        return list(value or [])
    if field.kind == "instant":
        return parse_instant(value, field.name) if value else None
    if field.kind == "int" and value is None and field.default is not None:
        return int(field.default)
    return value


def render(spec: CommandSpec, result: dict[str, Any]) -> str | RenderableType:
    """One or a few lines for people (JSON is what scripts read)."""
    if "imported" in result:
        lines = [f"已导入 / imported {result['imported']} 个联系人 / contacts"]
        lines += [f"  跳过第 {r['row']} 行 / skipped row {r['row']}: {r['reason']}"
                  for r in result["rejected"]]
        return printable("\n".join(lines))
    if "numbers" in result:  # campaign_flags
        from tools.cli_campaign_view import flags_table

        return flags_table(result)
    if "state" in result:
        flags = "、".join(f"{k} {v}" for k, v in result["flags"].items()) or "无"
        return (f"{result['campaign_id']} {result['state']}：名单 {result['contacts']}，"
                f"已拨 {result['dialled']}，接通 {result['connected']}，完成 {result['completed']}，"
                f"待重试 {result['pending_retries']}，呼叫中 {result['in_progress']}，标记 {flags}")
    return printable(" ".join(f"{k}={v}" for k, v in result.items()))


def _command(spec: CommandSpec) -> Callable[..., None]:
    def handler(ctx: typer.Context, **given: Any) -> None:
        from adapters.campaign_files import RejectedRows
        from tools.cli import ctx_of, emit, fail

        as_json = bool(given.pop("as_json"))
        ref = given.pop("campaign_id", None)
        once, interval = bool(given.pop("once", True)), float(given.pop("interval", 1.0))
        context = ctx_of(ctx)
        try:
            values = {f.name: _value(f, given[f.name]) for f in spec.fields}
            engine: Engine = context.engine()
            actor = actor_of(context, engine, spec)
            check_reveal(context, engine, ref, values)
            if spec.name == "campaign_status" and not (as_json or once) and sys.stdout.isatty():
                return _live(campaign_desk(engine), ref or "", actor, interval)
            result = _run(engine, spec, ref, actor, values, as_json)
        except RejectedRows as error:
            if as_json:
                typer.echo(json.dumps({"error": {"type": "RejectedRows", "zh": error.zh,
                                                 "en": error.en, "field": error.field},
                                       "imported": 0,
                                       "rejected": [r.as_dict() for r in error.checked.rejected]},
                                      ensure_ascii=False, indent=2))
            typer.echo(f"错误 / error: {printable(str(error))}", err=True)
            raise typer.Exit(2) from None
        except DomainError as error:
            fail(error, as_json)
        if spec.name == "campaign_status" and not as_json:
            from tools.cli_campaign_view import status_panel

            emit(result, False, status_panel(result))
            return
        emit(result, as_json, "" if as_json else render(spec, result))

    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=typer.Context)]
    if spec.ticket:
        params.append(inspect.Parameter("campaign_id", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        annotation=IdArg))
    for f in spec.fields:
        # A required file is positional (`campaign import ID FILE`); the rest are options.
        option = (typer.Argument(metavar="FILE", help=f"{f.label}: {f.help}")
                  if f.kind == "file" and f.required else
                  typer.Option(f"--{f.name.replace('_', '-')}", metavar=_METAVARS[f.kind],
                               help=f"{f.label}: {f.help}"))
        default: Any = inspect.Parameter.empty
        if f.kind == "flag":
            default = False
        elif not f.required:
            default = None if f.kind in ("texts", "int", "instant", "file") else f.default
        params.append(inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        annotation=Annotated[_TYPES[f.kind], option],
                                        default=default))
    if spec.name == "campaign_status":  # how it is shown, not what is asked
        params.append(inspect.Parameter("once", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        annotation=OnceOpt, default=False))
        params.append(inspect.Parameter("interval", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        annotation=IntervalOpt, default=1.0))
    params.append(inspect.Parameter("as_json", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=JsonOpt, default=False))
    handler.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    handler.__name__ = spec.name
    handler.__doc__ = spec.summary
    return handler


def _live(campaigns: Any, ref: str, actor: Actor, interval: float) -> None:
    """Redraw the progress at each change until the campaign is closed or Ctrl-C.

    Ctrl-C only raises a flag that the pause between two looks reads: a KeyboardInterrupt
    raised wherever the main thread happened to be (half-way into the live display, inside
    a database read) once left the process hanging instead of exiting."""
    from rich.live import Live

    from tools.cli_campaign_view import status_panel
    from tools.cli_render import console

    interrupted: list[int] = []

    def pause(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not interrupted and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return bool(interrupted)

    previous = signal.signal(signal.SIGINT, lambda signum, _frame: interrupted.append(signum))
    try:
        updates = campaigns.watch(ref, actor=actor, interval=interval, stop=pause)
        first = next(updates)  # an unknown campaign is refused here, before drawing anything
        try:
            with Live(status_panel(first), console=console(), auto_refresh=False) as live:
                for status in updates:
                    live.update(status_panel(status), refresh=True)
        finally:
            updates.close()
    finally:
        signal.signal(signal.SIGINT, previous)


def _run(engine: Engine, spec: CommandSpec, ref: str | None, actor: Actor,
         values: dict[str, Any], as_json: bool) -> dict[str, Any]:
    campaigns = campaign_desk(engine)
    bar = {"import_contacts": "导入名单 / importing", "export_campaign": "导出结果 / exporting"}
    if spec.name not in bar or as_json:
        return campaigns.execute(spec.name, ref, actor=actor, **values)
    from tools.cli_render import progress_reporter

    with progress_reporter(bar[spec.name]) as report:
        return campaigns.execute(spec.name, ref, actor=actor, on_progress=report, **values)


for _spec in CATALOGUE:
    campaign_app.command(name=_spec.cli, help=_spec.summary, cls=Command)(_command(_spec))


def register(app: typer.Typer) -> None:
    """Add the `campaign` group to the CLI."""
    app.add_typer(campaign_app, name="campaign")


def is_campaign_ref(ref: str) -> bool:
    """A campaign (CP20261203A1B2C3) or one of its contacts (…-000017), as `history`
    tells them from ticket numbers (12 digits)."""
    return ref.startswith("CP") and not ref[:12].isdigit()
