"""The console's KPI panels and report downloads: the 总览 figures are the report's, and a
download is the same file `rexian report --csv/--xlsx` writes."""

from __future__ import annotations

import io
from datetime import date

import httpx
from openpyxl import load_workbook

from adapters.http.panels import month_end, month_start, units_ranked
from adapters.report_files import csv_bytes, table_rows
from adapters.reports import build_report
from domain.access.roles import Identity
from domain.kpi.registry import BEIJING
from domain.values import Actor
from tests.support.console import Console, console  # noqa: F401

__all__ = ["console"]
CITY = "区城管局"


def resolved_and_called_back(c: Console) -> None:
    s = c.engine.service
    no = c.orders[CITY]
    s.sign(no, dept=CITY, actor=Actor("department", CITY))
    s.resolve(no, dept=CITY, reply="已修复", actor=Actor("department", CITY))
    s.record_callback(no, result="满意", comment="", actor=Actor("agent", "a-001"))


def test_dashboard_panels_are_the_reports_figures(console: Console) -> None:
    resolved_and_called_back(console)
    board = httpx.get(f"{console.url}/api/dashboard", headers=console.auth("supervisor")).json()
    today = console.engine.service.now().astimezone(BEIJING).date()
    first = month_start(today)
    by_category = build_report(console.engine, first, today, "category")
    assert board["intake_month_category"] == {
        r["group"]: r["kpis"]["direct_answer_rate"]["denominator"] for r in by_category["rows"]}
    assert board["intake_today_channel"] == {"电话": 4}  # the fixture's four intakes
    assert sum(board["intake_month_category"].values()) == 4
    ranked = board["units_ranked"]
    assert ranked[0] == {"group": CITY, "on_time": 1.0, "satisfaction": 1.0}
    assert all(r["on_time"] is None for r in ranked[1:])  # nothing resolved yet
    assert board["satisfaction_trend"] == {today.strftime("%Y-%m"): 100.0}
    assert board["callbacks"] == {"满意/基本满意": 1, "不满意": 0, "无法联系": 0}


def test_units_ranked_and_month_arithmetic() -> None:
    rows = [{"group": g, "kpis": {"on_time_resolution_rate": {"rate": a},
                                  "satisfaction_rate": {"rate": b}}}
            for g, a, b in (("甲", None, 0.9), ("乙", 0.8, None), ("丙", 0.8, 0.95),
                            ("丁", 1.0, 0.5))]
    assert [r["group"] for r in units_ranked({"rows": rows})] == ["丁", "丙", "乙", "甲"]
    assert month_start(date(2026, 1, 15), 1) == date(2025, 12, 1)
    assert month_start(date(2026, 3, 31), 6) == date(2025, 9, 1)
    assert month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert month_end(date(2025, 12, 1)) == date(2025, 12, 31)


def test_report_downloads_are_the_clis_files(console: Console) -> None:
    resolved_and_called_back(console)
    today = console.engine.service.now().astimezone(BEIJING).date()
    period = f"from={month_start(today)}&to={today}"
    url = f"{console.url}/api/report/download?{period}&by=dept"
    wanted = build_report(console.engine, month_start(today), today, "dept")
    got = httpx.get(url + "&format=csv", headers=console.auth("supervisor"))
    assert got.status_code == 200 and got.content == csv_bytes(wanted)
    assert got.content.startswith("\ufeff".encode())  # Excel reads UTF-8 with a BOM
    assert f"rexian-report-{month_start(today)}-{today}-dept.csv" in \
        got.headers["content-disposition"]
    book = httpx.get(url + "&format=xlsx", headers=console.auth("supervisor"))
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    assert [list(r) for r in sheet.iter_rows(values_only=True)][1:] == table_rows(wanted)
    # A unit downloads only its own figures; a bad format or no token is refused.
    own = httpx.get(url + "&format=csv", headers=console.auth(CITY))
    assert own.content == csv_bytes(build_report(
        console.engine, month_start(today), today, "dept",
        identity=Identity(roles=("department",), id=CITY, dept=CITY)))
    assert "区水务局" not in own.content.decode("utf-8-sig")
    bad = httpx.get(url + "&format=pdf", headers=console.auth("supervisor"))
    assert bad.status_code == 400 and "format" in bad.json()["en"]
    assert httpx.get(url + "&format=csv").status_code == 401
    late = httpx.get(f"{console.url}/api/report/download?from=2025-10-01&to=2025-09-01",
                     headers=console.auth("supervisor"))
    assert late.status_code == 400 and "晚于" in late.json()["zh"]


def test_kb_search_api_for_agent_assist(console: Console) -> None:
    from adapters.kb import kb_desk
    from tests.test_kb import ADMIN, SAMPLE

    kb_desk(console.engine).import_file(SAMPLE, actor=ADMIN)
    url = f"{console.url}/api/kb/search"
    # The import changed the base: this first search rebuilds the retriever (seconds on a
    # loaded machine); what is checked is the answer, not the time.
    found = httpx.get(url, params={"text": "身份证丢了怎么办", "limit": 3},
                      headers=console.auth("dispatcher"), timeout=60)
    assert found.status_code == 200
    assert found.json()["answer"]["citation"] == "KB-HJ-001 v1"
    assert len(found.json()["hits"]) <= 3
    assert httpx.get(url, params={"text": "身份证"}, headers=console.auth(CITY)
                     ).status_code == 403  # a unit does not use the centre's base
    assert httpx.get(url, params={"text": "身份证"}).status_code == 401
    assert httpx.get(url, params={"text": " "}, headers=console.auth("dispatcher")
                     ).status_code == 400
