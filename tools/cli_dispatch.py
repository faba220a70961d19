"""`rexian catalogue ...` (the dispatch catalogue, 派单目录) and `rexian suggest ...` (dispatch
suggestions, 智能派单): adapters/dispatch.py's desk, authorised through the permission
matrix (catalogue_import, catalogue_list, suggest, suggest_train)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.errors import InvalidInput, printable, shown
from tools.cli_base import Command, Group, JsonOpt

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

catalogue_app = typer.Typer(cls=Group, no_args_is_help=True,
                            help="The dispatch catalogue (派单目录): items → lead and assisting "
                            "units by region, versioned and audited.")


def _desk(ctx_of: Any, ctx: typer.Context, engine: Engine) -> Any:
    """The store's dispatch desk, or with --grpc the server's (same methods, same results)."""
    if ctx_of(ctx).grpc:
        from adapters.grpc.dispatch_client import RemoteDispatchDesk

        return RemoteDispatchDesk(engine)
    from adapters.dispatch import desk

    return desk(engine)


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


MAX_BATCH_LINES = 100_000
BATCH_FIELDS = ("content", "category", "region")


def suggestions_text(result: dict[str, Any]) -> str:
    if "trained_at" in result:
        how = "增量训练 / incremental" if result["incremental"] else "完整训练 / full"
        return (f"派单模型 #{result['model']}（{how}）：{result['orders']} 件工单，"
                f"新读取 {result['new_orders']} 件，用时 {result['seconds']} s")
    lines = [f"{result['ticket_no']}：" if result.get("ticket_no") else "派单建议 / suggestions:"]
    for rank, s in enumerate(result["suggestions"], start=1):
        lines.append(f"  {rank}. {s['dept']}  {s['score']:.3f}  {s['reason']}")
    if not result["suggestions"]:
        lines.append("  （无 / none）")
    return printable("\n".join(lines))


def read_batch(path: Path) -> list[dict[str, str]]:
    """The requests of a JSONL file, one {"content", "category", "region"} object a line;
    every bad line is named (InvalidInput) before anything is suggested."""
    import json

    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput("batch", f"无法读取批量文件：{shown(error.strerror or str(error), 100)}",
                           f"cannot read the batch file: "
                           f"{shown(error.strerror or str(error), 100)}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("batch", "批量文件不是 UTF-8 编码",
                           "the batch file is not UTF-8") from None
    lines = text.splitlines()
    if len(lines) > MAX_BATCH_LINES:
        raise InvalidInput("batch", f"批量文件行数过多（最多 {MAX_BATCH_LINES} 行）",
                           f"the batch file has too many lines (max {MAX_BATCH_LINES})")
    requests: list[dict[str, str]] = []
    bad: list[tuple[int, str, str]] = []
    for number, line in enumerate(lines, start=1):
        try:
            value = json.loads(line)
        except ValueError:
            bad.append((number, "不是 JSON 对象", "not a JSON object"))
            continue
        if not isinstance(value, dict):
            bad.append((number, "不是 JSON 对象", "not a JSON object"))
            continue
        missing = [f for f in BATCH_FIELDS if not isinstance(value.get(f), str)]
        if missing:
            bad.append((number, f"缺少文本字段：{'、'.join(missing)}",
                        f"lacks text field(s): {', '.join(missing)}"))
            continue
        requests.append({f: value[f] for f in BATCH_FIELDS})
    if not lines:
        raise InvalidInput("batch", "批量文件为空", "the batch file is empty")
    if bad:
        shown_bad = bad[:50]
        more_zh = f"（另有 {len(bad) - 50} 行）" if len(bad) > 50 else ""
        more_en = f" (and {len(bad) - 50} more)" if len(bad) > 50 else ""
        raise InvalidInput(
            "batch", "批量文件有误，未给出任何建议：" + "；".join(
                f"第 {n} 行{zh}" for n, zh, _ in shown_bad) + more_zh,
            "batch file refused, nothing suggested: " + "; ".join(
                f"line {n}: {en}" for n, _, en in shown_bad) + more_en)
    return requests


def register(app: typer.Typer, run: Any, ctx_of: Any) -> None:
    """Add `catalogue` (and `suggest`) to the CLI (tools.cli's `run` and context)."""

    @catalogue_app.command(name="import", cls=Command)
    def catalogue_import(ctx: typer.Context,
                         file: Annotated[Path, typer.Argument(metavar="FILE.csv|FILE.xlsx",
                                                              help="The catalogue file")],
                         as_json: JsonOpt = False) -> None:
        """Import a catalogue as the next version (every bad row named, nothing recorded)."""

        def action(engine: Engine) -> dict[str, Any]:
            result: dict[str, Any] = _desk(ctx_of, ctx, engine).import_catalogue(
                file, actor=ctx_of(ctx).actor())
            return result

        run(ctx, as_json, action, catalogue_text, operation="catalogue_import")

    @catalogue_app.command(name="list", cls=Command)
    def catalogue_list(ctx: typer.Context,
                       version: Annotated[int | None, typer.Option(
                           "--version", metavar="N", help="An earlier version")] = None,
                       as_json: JsonOpt = False) -> None:
        """The catalogue's items (the current version, or --version N as it was)."""

        def action(engine: Engine) -> dict[str, Any]:
            result: dict[str, Any] = _desk(ctx_of, ctx, engine).list_catalogue(version)
            return result

        run(ctx, as_json, action, catalogue_text, operation="catalogue_list")

    app.add_typer(catalogue_app, name="catalogue")

    @app.command(name="suggest", cls=Command)
    def suggest(ctx: typer.Context,
                ticket: Annotated[str | None, typer.Argument(
                    metavar="[TICKET|train]", help="An order's ticket number, or `train`")
                ] = None,
                content: Annotated[str | None, typer.Option(
                    "--content", metavar="TEXT", help="The request's content")] = None,
                category: Annotated[str | None, typer.Option(
                    "--category", metavar="C", help="诉求类别 (咨询/求助/投诉/举报/建议/表扬)")
                ] = None,
                region: Annotated[str | None, typer.Option(
                    "--region", metavar="R", help="Region, e.g. 甬江区东湖街道")] = None,
                batch: Annotated[Path | None, typer.Option(
                    "--batch", metavar="FILE.jsonl", help="One {content, category, region} "
                    "object a line; one JSON line out per line in, same order")] = None,
                incremental: Annotated[bool, typer.Option(
                    "--incremental", metavar="", help="With train: continue the current "
                    "model on orders dispatched since")] = False,
                as_json: JsonOpt = False) -> None:
        """Dispatch suggestions (智能派单): the top 3 units with score and reason, for an
        order (TICKET) or a request (--content --category --region, or --batch FILE);
        `suggest train` retrains the model on the centre's dispatch history."""
        import json

        training = ticket == "train"
        text_given = any(v is not None for v in (content, category, region))
        chosen = sum((ticket is not None, text_given, batch is not None))
        if chosen != 1 or (incremental and not training):
            usage = InvalidInput("suggest", "请给出工单号、train、--content/--category/--region "
                                 "或 --batch 之一（--incremental 只用于 train）",
                                 "give one of: a ticket number, train, "
                                 "--content/--category/--region, or --batch FILE "
                                 "(--incremental goes with train only)")
            run(ctx, as_json, lambda engine: _raise(usage), suggestions_text)
            return

        def action(engine: Engine) -> Any:
            found = _desk(ctx_of, ctx, engine)
            if training:
                return found.train(actor=ctx_of(ctx).actor(), incremental=incremental)
            if ticket is not None:
                return found.suggest_order(ticket)
            if batch is not None:
                requests = read_batch(batch)
                return {"lines": [found.suggest(**r) for r in requests]}
            return found.suggest(content=content or "", category=category or "",
                                 region=region or "")

        if batch is not None:  # JSON lines, whatever --json says: a batch is for scripts
            run(ctx, False, action, lambda result: "\n".join(
                json.dumps(line, ensure_ascii=False) for line in result["lines"]),
                operation="suggest")
            return
        run(ctx, as_json, action, suggestions_text,
            operation="suggest_train" if training else "suggest")


def _raise(error: Exception) -> Any:
    raise error
