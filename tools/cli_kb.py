"""`rexian kb import|list|show|search`: the knowledge base (知识库) on the store, authorised
through the permission matrix (kb_import, kb_read)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.errors import InvalidInput, printable
from tools.cli_base import Command, Group, JsonOpt

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

kb_app = typer.Typer(cls=Group, no_args_is_help=True,
                     help="The knowledge base (知识库): policy articles with question forms, "
                     "answers and follow-ups, versioned and audited.")


def _local_only(ctx_of: Any, ctx: typer.Context, command: str) -> None:
    if ctx_of(ctx).grpc:
        raise InvalidInput("grpc", f"{command} 请在服务端本地运行", f"run {command} against "
                           "the store, not --grpc")


def imported_text(result: dict[str, Any]) -> str:
    files = "、".join(f["file"] for f in result["files"])
    return printable(f"{files}：新增 {len(result['published'])}，更新 "
                     f"{len(result['revised'])}，未变 {len(result['unchanged'])}；知识库共 "
                     f"{result['articles']} 条 / published {len(result['published'])}, revised "
                     f"{len(result['revised'])}, unchanged {len(result['unchanged'])}")


def listed_text(result: dict[str, Any]) -> str:
    lines = [f"{a['citation']:<16} {'' if a['valid'] else '（已失效）'}[{a['domain']}] "
             f"{a['title']}  ——{a['unit']}" for a in result["articles"]]
    return printable("\n".join(lines) or "知识库为空 / the knowledge base is empty")


def article_text(a: dict[str, Any]) -> str:
    state = "" if a["valid"] else "（已失效，不会用于答复 / expired: never answered）"
    return printable("\n".join([
        f"{a['citation']} {a['title']} {state}", f"领域：{a['domain']}  单位：{a['unit']}",
        f"有效期：{a['valid_from'] or '—'} 至 {a['valid_to'] or '—'}  来源：{a['source']}",
        f"问法：{'；'.join(a['questions'])}", f"简答：{a['short_answer']}",
        f"全文：{a['full_text']}", f"追问：{'；'.join(a['follow_ups']) or '—'}"]))


def search_text(result: dict[str, Any]) -> str:
    best = result["answer"]
    lines = [f"答复 / answer：{best['citation']} {best['title']}：{best['short_answer']}" if best
             else "知识库中没有可答复的条目 / nothing in the base answers this"]
    lines += [f"  {h['score']:.3f}  {h['citation']:<16} {h['title']}" for h in result["hits"]]
    return printable("\n".join(lines))


def register(app: typer.Typer, run: Any, ctx_of: Any) -> None:
    """Add `kb` to the CLI (tools.cli's `run` and context)."""

    @kb_app.command(name="import", cls=Command)
    def kb_import(ctx: typer.Context,
                  files: Annotated[list[Path], typer.Argument(
                      metavar="FILE.md|FILE.xlsx...", help="Articles to import (several "
                      "files: one import, follow-ups may cross files)")],
                  as_json: JsonOpt = False) -> None:
        """Import articles: new ones published, changed ones as a new version (every
        problem named with its line, nothing recorded, when any article is bad)."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.kb import kb_desk

            _local_only(ctx_of, ctx, "kb import")
            return kb_desk(engine).import_files(files, actor=ctx_of(ctx).actor())

        run(ctx, as_json, action, imported_text, operation="kb_import")

    @kb_app.command(name="list", cls=Command)
    def kb_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
        """Every article with its version, and whether it is valid today."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.kb import kb_desk

            _local_only(ctx_of, ctx, "kb list")
            return kb_desk(engine).list()

        run(ctx, as_json, action, listed_text, operation="kb_read")

    @kb_app.command(name="show", cls=Command)
    def kb_show(ctx: typer.Context,
                key: Annotated[str, typer.Argument(metavar="KEY", help="e.g. KB-SB-001")],
                version: Annotated[int | None, typer.Option(
                    "--version", metavar="N", help="An earlier version")] = None,
                as_json: JsonOpt = False) -> None:
        """One article (as it is, or --version N as it was)."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.kb import kb_desk

            _local_only(ctx_of, ctx, "kb show")
            return kb_desk(engine).show(key, version)

        run(ctx, as_json, action, article_text, operation="kb_read")

    @kb_app.command(name="search", cls=Command)
    def kb_search(ctx: typer.Context,
                  text: Annotated[str, typer.Argument(metavar="TEXT", help="The question")],
                  limit: Annotated[int, typer.Option("--limit", metavar="N",
                                                     help="How many hits")] = 5,
                  as_json: JsonOpt = False) -> None:
        """The articles valid today that best answer TEXT, each cited with its version."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.kb import kb_desk

            _local_only(ctx_of, ctx, "kb search")
            return kb_desk(engine).search(text, limit=limit)

        run(ctx, as_json, action, search_text, operation="kb_read")

    app.add_typer(kb_app, name="kb")
