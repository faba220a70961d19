"""`rexian calendar`: import the State Council holiday notice, show a year's calendar."""

from __future__ import annotations

import calendar as month_calendar
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.errors import printable
from tools.cli_base import Command, Group, JsonOpt

if TYPE_CHECKING:  # the engine is imported by the commands that open it (start-up time)
    from adapters.bootstrap import Engine

calendar_app = typer.Typer(cls=Group, no_args_is_help=True, help="Working-day calendar "
                           "(工作日历): the State Council arrangement each deadline counts on.")
BASIS_LABELS = {"official": "正式", "provisional": "暂定"}


def render_year(view: dict[str, Any], engine: Engine) -> str:
    """Twelve month grids: 休 a day off on a weekday, 班 a working weekend."""
    from rich.columns import Columns
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    assert engine.service.deadlines is not None
    cal = engine.service.deadlines.calendar
    year = view["year"]
    grids = []
    for month in range(1, 13):
        table = Table(title=f"{month}月", show_edge=False, pad_edge=False, padding=(0, 0))
        for head in "一二三四五六日":
            table.add_column(head, justify="right", width=4)
        for week in month_calendar.Calendar().monthdayscalendar(year, month):
            cells = []
            for weekday, day in enumerate(week):
                if not day:
                    cells.append("")
                    continue
                working = cal.is_working_day(date(year, month, day))
                if not working and weekday < 5:
                    cells.append(f"[bold red]{day}休[/]")
                elif working and weekday >= 5:
                    cells.append(f"[bold blue]{day}班[/]")
                else:
                    cells.append(f"[dim]{day}[/]" if not working else str(day))
            table.add_row(*cells)
        grids.append(table)
    console = Console(record=True, width=120)
    label = BASIS_LABELS[view["basis"]]
    with console.capture() as captured:
        console.print(f"[bold]{year} 年工作日历[/]（{label}：{escape(view['source'])}）"
                      f"  工作日 {view['working_days']} 天")
        console.print(Columns(grids, equal=True))
        console.print("休 = 工作日放假  班 = 周末调休上班")
        console.print("各年来源：" + "；".join(
            f"{s['year']} {BASIS_LABELS[s['basis']]}" for s in view["sources"][-4:]))
    return captured.get()


def register(app: typer.Typer, run: Any, ctx_of: Any) -> None:
    """Add `calendar import` and `calendar show` to the CLI (the `run` of tools.cli)."""
    app.add_typer(calendar_app, name="calendar")

    @calendar_app.command(name="import", cls=Command)
    def import_(ctx: typer.Context,
                file: Annotated[str, typer.Argument(metavar="FILE", help="The notice as published (UTF-8 text)")],
                replace: Annotated[bool, typer.Option(
                    "--replace", metavar="", help="Replace a different arrangement already imported "
                    "for that year")] = False,
                as_json: JsonOpt = False) -> None:
        """Import 《国务院办公厅关于YYYY年部分节假日安排的通知》: prints what it understood,
        records it (audited); open orders are revised by the next tick."""
        from adapters.calendar.operations import import_notice, read_notice

        def text(r: dict[str, Any]) -> str:
            done = {"imported": "已导入", "replaced": "已替换", "unchanged": "内容相同，未记录"}
            lines = [f"{r['year']} 年节假日安排（{r['title']}）：{done[r['action']]}，"
                     f"版本 v{r['version']}"]
            for f in r["festivals"]:
                off = "、".join(d[5:] for d in f["days_off"])
                work = "、".join(d[5:] for d in f["workdays"]) or "无"
                lines.append(f"  {f['name']}：放假 {off}（{len(f['days_off'])} 天）；调休上班 {work}")
            lines.append("在办工单的暂定时限将在下一次到期检查（tick / serve）时重新计算。")
            # The title and names come from the file as given: never raw control characters.
            return printable("\n".join(lines))

        run(ctx, as_json,
            lambda e: import_notice(e, read_notice(file), replace, ctx_of(ctx).actor()), text,
            operation="calendar_import")

    @calendar_app.command(name="show", cls=Command)
    def show(ctx: typer.Context, year: Annotated[int, typer.Argument(metavar="YEAR", help="The year")],
             as_json: JsonOpt = False) -> None:
        """A year's working-day calendar as month grids, and where each year's data comes from."""
        from adapters.calendar.operations import year_view

        engine_box: list[Engine] = []

        def action(engine: Engine) -> dict[str, Any]:
            engine_box.append(engine)
            return year_view(engine, year)

        run(ctx, as_json, action, lambda view: render_year(view, engine_box[0]),
            operation="calendar_show")
