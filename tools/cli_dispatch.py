"""`rexian catalogue ...` (the dispatch catalogue, 派单目录) and `rexian suggest ...` (dispatch
suggestions, 智能派单): adapters/dispatch.py's desk, authorised through the permission
matrix (catalogue_import, catalogue_list, suggest, suggest_train)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.errors import InvalidInput, printable
from tools.cli_base import Command, Group, JsonOpt

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

catalogue_app = typer.Typer(cls=Group, no_args_is_help=True,
                            help="The dispatch catalogue (派单目录): items → lead and assisting "
                            "units by region, versioned and audited.")


def _local_only(ctx_of: Any, ctx: typer.Context, command: str) -> None:
    if ctx_of(ctx).grpc:
        raise InvalidInput("grpc", f"{command} 请在服务端本地运行（远程请用 gRPC DispatchService）",
                           f"run {command} against the store, not --grpc "
                           "(remote callers use the gRPC DispatchService)")


def catalogue_text(result: dict[str, Any]) -> str:
    head = (f"派单目录 v{result['version']}：{result['items']} 个事项，来自 {result['source']}，"
            f"{result['imported_by']} 于 {result['imported_at']} 导入")
    if "action" in result:
        action = {"imported": "已导入 / imported", "revised": "已更新 / revised",
                  "unchanged": "内容未变，未记录新版本 / unchanged, no new version"}
        return printable(f"{action[result['action']]}：{head}")
    lines = [head]
    for row in result["rows"]:
        assisting = f"（协办：{'、'.join(row['assisting'])}）" if row["assisting"] else ""
        lines.append(f"  {row['code']} [{row['category']}] {row['item']} @{row['region']} → "
                     f"{row['lead']}{assisting}  关键词：{'、'.join(row['keywords'])}")
    return printable("\n".join(lines))


def register(app: typer.Typer, run: Any, ctx_of: Any) -> None:
    """Add `catalogue` (and `suggest`) to the CLI (tools.cli's `run` and context)."""

    @catalogue_app.command(name="import", cls=Command)
    def catalogue_import(ctx: typer.Context,
                         file: Annotated[Path, typer.Argument(metavar="FILE.csv|FILE.xlsx",
                                                              help="The catalogue file")],
                         as_json: JsonOpt = False) -> None:
        """Import a catalogue as the next version (every bad row named, nothing recorded)."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.dispatch import desk

            _local_only(ctx_of, ctx, "catalogue import")
            return desk(engine).import_catalogue(file, actor=ctx_of(ctx).actor())

        run(ctx, as_json, action, catalogue_text, operation="catalogue_import")

    @catalogue_app.command(name="list", cls=Command)
    def catalogue_list(ctx: typer.Context,
                       version: Annotated[int | None, typer.Option(
                           "--version", metavar="N", help="An earlier version")] = None,
                       as_json: JsonOpt = False) -> None:
        """The catalogue's items (the current version, or --version N as it was)."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.dispatch import desk

            _local_only(ctx_of, ctx, "catalogue list")
            return desk(engine).list_catalogue(version)

        run(ctx, as_json, action, catalogue_text, operation="catalogue_list")

    app.add_typer(catalogue_app, name="catalogue")
