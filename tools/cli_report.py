"""`rexian report`: a period's KPIs (domain/kpi/registry.py) as JSON, CSV or XLSX, or a table.

The figures are adapters/reports.py's build_report, the same the console's /api/report
returns; the operation `report` of the permission matrix authorises it, and a department's
identity sees only its own unit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.report_files import HEADER, report_file, table_rows
from domain.errors import InvalidInput, shown
from tools.cli_base import Command, JsonOpt

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

def text_table(report: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"{report['from']} — {report['to']}  分组 / by: {report['by'] or '全部'}",
                  title_justify="left")
    for head in HEADER:
        table.add_column(head)
    for line in table_rows(report):
        rate = line[5]
        table.add_row(*(str(v) for v in line[:5]), "—" if rate is None else f"{rate:.2%}")
    return table


def register(app: typer.Typer, run: Any, ctx_of: Any) -> None:
    """Add `report` to the CLI (tools.cli's `run` and context)."""

    @app.command(name="report", cls=Command)
    def report(ctx: typer.Context,
               date_from: Annotated[str, typer.Option("--from", metavar="YYYY-MM-DD",
                                                      help="First day (Beijing time)")],
               date_to: Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD",
                                                    help="Last day, inclusive")],
               by: Annotated[str | None, typer.Option(
                   "--by", metavar="dept|category|region|channel", help="One row per value")
               ] = None,
               dept: Annotated[str | None, typer.Option(
                   "--dept", metavar="UNIT", help="The unit a department role reports for")
               ] = None,
               csv_file: Annotated[Path | None, typer.Option("--csv", metavar="FILE",
                                                             help="Write CSV here")] = None,
               xlsx_file: Annotated[Path | None, typer.Option("--xlsx", metavar="FILE",
                                                              help="Write XLSX here")] = None,
               as_json: JsonOpt = False) -> None:
        """KPIs over a period (直接答复率, 及时派单率, 按期办结率, 满意率 …), overall or by
        unit, category, region or channel."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.reports import report_day

            # Local: the store; --grpc: the server's ReportService, for the token's identity.
            result = engine.report(report_day("--from", date_from), report_day("--to", date_to),
                                   by, identity=ctx_of(ctx).identity)
            for kind, path in (("csv", csv_file), ("xlsx", xlsx_file)):
                if path is not None:
                    try:
                        path.write_bytes(report_file(result, kind))
                    except OSError as error:
                        raise InvalidInput(kind, f"无法写入 {shown(str(path), 80)}：{error.strerror}",
                                           f"cannot write {shown(str(path), 80)}: "
                                           f"{error.strerror}") from None
            return result

        run(ctx, as_json, action, text_table, operation="report", dept=dept)
