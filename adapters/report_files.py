"""A KPI report (adapters/reports.py) as a file: CSV (UTF-8 with a BOM, so Excel reads it) or
XLSX (openpyxl), one line per group and KPI. `rexian report --csv/--xlsx` and the console's
downloads write the same bytes."""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from domain.kpi.registry import KPIS

LABELS: Final = {k.name: k.label for k in KPIS}
HEADER: Final = ["分组 group", "指标 KPI", "名称", "分子 numerator", "分母 denominator",
                 "比率 rate"]
FORMATS: Final = {"csv": "text/csv; charset=utf-8",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def table_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One line per group and KPI (the CSV and XLSX body)."""
    return [[row["group"], name, LABELS[name], f["numerator"], f["denominator"], f["rate"]]
            for row in report["rows"] for name, f in row["kpis"].items()]


def csv_bytes(report: dict[str, Any]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(["" if v is None else v for v in line] for line in table_rows(report))
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(report: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{report['from']}~{report['to']}"
    sheet.append(HEADER)
    for line in table_rows(report):
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_file(report: dict[str, Any], kind: str) -> bytes:
    """The report as `kind` (csv or xlsx)."""
    return csv_bytes(report) if kind == "csv" else xlsx_bytes(report)


def file_name(report: dict[str, Any], kind: str) -> str:
    by = f"-{report['by']}" if report["by"] else ""
    return f"rexian-report-{report['from']}-{report['to']}{by}.{kind}"
