"""The KPI report against an auditor's recomputation from `rexian history --json`.

A mixed store is built through the real service (direct answers, dispatches on time and
late, returns, re-dispatches, extensions, resolutions on time and late, callbacks of each
result, reopens, ladder steps); then every KPI is recomputed from the orders' histories,
straight from the issue's definitions, and must equal the report, overall and by unit."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine
from adapters.reports import build_report
from domain.access.roles import Identity
from domain.errors import InvalidInput
from domain.kpi.registry import KPIS, kpi_table_markdown
from domain.service import SHANGHAI
from domain.values import Actor
from projections.kpi_facts import DAILY, rollup_rows
from projections.runner import TRACKING
from tests.conftest import SimClock
from tests.test_cli import REPO, rexian

AGENT = Actor("agent", "a1")
LEAD, OTHER = "区城管局", "区水务局"


def unit(dept: str) -> Actor:
    return Actor("department", dept)


def intake(engine: Engine, category: str, region: str = "甬江区", channel: str = "电话") -> str:
    return engine.service.intake(channel=channel, category=category, urgency="一般",
                                 region=region, content="小区路灯不亮",
                                 caller_name="李四", caller_phone="13800138000", actor=AGENT)


def mixed_store(engine: Engine, clock: SimClock) -> list[str]:
    s = engine.service
    clock.set("2025-11-03T09:00:00")
    answered = intake(engine, "咨询", channel="网站")
    s.answer(answered, reply="办理时间为工作日", actor=AGENT)
    s.record_callback(answered, result="满意", comment="", actor=AGENT)

    unhappy_answer = intake(engine, "咨询", region="鄞州区")
    s.answer(unhappy_answer, reply="请咨询社区", actor=AGENT)
    s.record_callback(unhappy_answer, result="不满意", comment="没解决", actor=AGENT)
    s.dispatch(unhappy_answer, dept=OTHER, assist=[], actor=AGENT)  # after the reopen

    on_time = intake(engine, "投诉")
    s.dispatch(on_time, dept=LEAD, assist=[], actor=AGENT)
    s.sign(on_time, dept=LEAD, actor=unit(LEAD))
    clock.advance(days=2)
    s.resolve(on_time, dept=LEAD, reply="已修复", actor=unit(LEAD))
    s.record_callback(on_time, result="满意", comment="", actor=AGENT)

    late = intake(engine, "求助", region="鄞州区", channel="微信")
    clock.advance(days=5)  # past its dispatch deadline
    s.dispatch(late, dept=LEAD, assist=[OTHER], actor=AGENT)
    clock.advance(days=3)  # past its sign deadline
    s.sign(late, dept=LEAD, actor=unit(LEAD))
    clock.advance(days=40)  # past its handling deadline: the ladder runs
    s.escalate_due(late)
    s.resolve(late, dept=LEAD, reply="已处理", actor=unit(LEAD))
    s.record_callback(late, result="不满意", comment="仍未解决", actor=AGENT)
    clock.advance(days=1)
    s.resolve(late, dept=LEAD, reply="已再次处理", actor=unit(LEAD))
    s.record_callback(late, result="基本满意", comment="", actor=AGENT)

    returned = intake(engine, "投诉", region="北仑区")
    s.dispatch(returned, dept=OTHER, assist=[], actor=AGENT)
    s.return_order(returned, dept=OTHER, reason="不属本单位职责", actor=unit(OTHER))
    s.redispatch(returned, dept=LEAD, assist=[], reason="改派城管", actor=AGENT)
    s.sign(returned, dept=LEAD, actor=unit(LEAD))
    s.request_extension(returned, dept=LEAD, days=10, reason="需协调住建", actor=unit(LEAD))
    s.approve_extension(returned, note="同意", actor=AGENT)
    clock.advance(days=23)  # past the first due time, before the extended one
    s.resolve(returned, dept=LEAD, reply="已协调处理", actor=unit(LEAD))
    s.record_callback(returned, result="无法联系", comment="", actor=AGENT)

    # Beijing midnight: one order at 23:59:59 on a day, one at 00:00:00 the next.
    clock.set("2025-12-31T23:59:59")
    before = intake(engine, "建议")
    clock.set("2026-01-01T00:00:00")
    after = intake(engine, "建议", channel="网站")
    s.dispatch(after, dept=OTHER, assist=[], actor=AGENT)
    return [answered, unhappy_answer, on_time, late, returned, before, after]


# ----- the auditor's recomputation: from history JSON and the definitions only ----------
def recompute(histories: list[dict[str, Any]], first: date, last: date,
              by_dept: bool) -> dict[str, Counter[str]]:
    """Counts per group ("全部" or the unit lead when the event happened)."""
    counts: dict[str, Counter[str]] = {}
    for history in histories:
        lead = dispatch_due = due = sign_due = None
        dispatched = False
        for e in history["events"]:
            at = datetime.fromisoformat(e["at"])
            d, kind = e["details"], e["type"]
            here: list[str] = []
            if kind == "Registered":
                dispatch_due = d["dispatch_due_at"]
                here.append("registered")
            elif kind == "Answered":
                here.append("answered")
            elif kind in ("Dispatched", "Redispatched"):
                if kind == "Dispatched" and not dispatched:
                    here.append("first_dispatch")
                    if dispatch_due is None or at <= datetime.fromisoformat(dispatch_due):
                        here.append("first_dispatch_on_time")
                dispatched = True
                here.append("dispatch")
                lead, due, sign_due = d["dept"], d["due_at"], d["sign_due_at"]
            elif kind == "Signed":
                here.append("signed")
                if sign_due is None or at <= datetime.fromisoformat(sign_due):
                    here.append("signed_on_time")
            elif kind == "Returned":
                here.append("returned")
                due = sign_due = None
            elif kind == "ExtensionApproved":
                here.append("extension")
                due = d["due_at"]
            elif kind == "Resolved":
                here.append("resolved")
                if due is None or at <= datetime.fromisoformat(due):
                    here.append("resolved_on_time")
            elif kind == "CallbackArchived":
                here.append("callback_" + d["result"])
            elif kind == "Reopened":
                here.append("callback_不满意")
                due = d["due_at"]
                dispatch_due = d["dispatch_due_at"] or dispatch_due
            elif kind == "Escalated":
                here.append("ladder_" + d["step"])
            if not first <= at.astimezone(SHANGHAI).date() <= last:
                continue
            group = lead if by_dept else "全部"
            if kind == "Escalated":
                group = (d["target_dept"] or lead) if by_dept else "全部"
            if kind in ("Dispatched", "Redispatched", "Signed", "Returned", "Resolved"):
                group = d["dept"] if by_dept else "全部"
            if group is None:
                continue
            counts.setdefault(group, Counter()).update(here)
    return counts


def expected(c: Counter[str]) -> dict[str, tuple[int, int]]:
    callbacks_answered = c["callback_满意"] + c["callback_基本满意"] + c["callback_不满意"]
    return {
        "direct_answer_rate": (c["answered"], c["registered"]),
        "timely_dispatch_rate": (c["first_dispatch_on_time"], c["first_dispatch"]),
        "on_time_resolution_rate": (c["resolved_on_time"], c["resolved"]),
        "satisfaction_rate": (c["callback_满意"] + c["callback_基本满意"], callbacks_answered),
        "reopen_rate": (c["callback_不满意"], c["resolved"]),
        "return_rate": (c["returned"], c["dispatch"]),
        "callback_rate": (callbacks_answered, callbacks_answered + c["callback_无法联系"]),
        "timely_sign_rate": (c["signed_on_time"], c["signed"]),
        "extension_rate": (c["extension"], c["dispatch"]),
        "overdue_rate": (c["resolved"] - c["resolved_on_time"], c["resolved"]),
        **{f"ladder_{step}": (c[f"ladder_{step}"], c["dispatch"])
           for step in ("warning", "level1", "level2", "level3")},
    }


def as_pairs(row: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {name: (f["numerator"], f["denominator"]) for name, f in row["kpis"].items()}


def history_json(db: str, ticket: str) -> dict[str, Any]:
    done = rexian(db, "history", ticket, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_report_equals_the_auditors_recomputation(engine: Engine, clock: SimClock,
                                                  db_url: str) -> None:
    tickets = mixed_store(engine, clock)
    histories = [history_json(db_url, t) for t in tickets]
    kinds = {e["type"] for h in histories for e in h["events"]}
    assert {"Answered", "Returned", "Redispatched", "ExtensionApproved", "Reopened",
            "CallbackArchived", "Escalated"} <= kinds  # the store is as mixed as claimed
    for first, last in ((date(2025, 11, 1), date(2026, 1, 31)),
                        (date(2025, 11, 3), date(2025, 11, 10)),
                        (date(2025, 12, 31), date(2025, 12, 31)),
                        (date(2026, 1, 1), date(2026, 1, 1))):
        overall = build_report(engine, first, last, None)
        assert [r["group"] for r in overall["rows"]] == ["全部"]
        assert as_pairs(overall["rows"][0]) == expected(
            recompute(histories, first, last, False).get("全部", Counter()))
        by_dept = build_report(engine, first, last, "dept")
        mine = recompute(histories, first, last, True)
        assert {r["group"] for r in by_dept["rows"]} == set(mine)
        for row in by_dept["rows"]:
            want = expected(mine[row["group"]])
            del want["direct_answer_rate"]  # no unit is lead at intake
            assert as_pairs(row) == want, row["group"]
    whole = build_report(engine, date(2025, 11, 1), date(2026, 1, 31), None)["rows"][0]
    # Not a vacuous equality: each kind of figure was counted.
    assert all(f["denominator"] > 0 for f in whole["kpis"].values())
    assert whole["kpis"]["overdue_rate"]["numerator"] >= 1
    assert whole["kpis"]["ladder_level2"]["numerator"] >= 1


def test_period_boundaries_are_beijing_midnight(engine: Engine, clock: SimClock) -> None:
    mixed_store(engine, clock)
    eve = build_report(engine, date(2025, 12, 31), date(2025, 12, 31), None)["rows"][0]
    new_year = build_report(engine, date(2026, 1, 1), date(2026, 1, 1), None)["rows"][0]
    assert eve["kpis"]["direct_answer_rate"]["denominator"] == 1
    assert new_year["kpis"]["direct_answer_rate"]["denominator"] == 1
    assert new_year["kpis"]["return_rate"]["denominator"] == 1


def test_groupings_and_rebuild(engine: Engine, clock: SimClock) -> None:
    mixed_store(engine, clock)
    first, last = date(2025, 11, 1), date(2026, 1, 31)
    reports = {by: build_report(engine, first, last, by)
               for by in (None, "dept", "category", "region", "channel")}
    assert {r["group"] for r in reports["region"]["rows"]} == {"甬江区", "鄞州区", "北仑区"}
    assert {r["group"] for r in reports["channel"]["rows"]} == {"电话", "网站", "微信"}
    for by in ("category", "region", "channel"):  # each grouping adds up to the whole
        total = reports[None]["rows"][0]["kpis"]
        for name in total:
            assert sum(r["kpis"][name]["numerator"] for r in reports[by]["rows"]) == \
                total[name]["numerator"]
    engine.runners["kpi_facts"].rebuild()
    assert {by: build_report(engine, first, last, by) for by in reports} == reports
    # A replay over notifications already applied (a crash between a batch and its
    # position) counts nothing twice: not the facts, not the daily rollup.
    runner = engine.runners["kpi_facts"]
    with engine.db.transaction() as cur:
        cur.execute(f"UPDATE {TRACKING} SET position = 0 WHERE projection = ?", (runner.projection.name,))
    runner._position = None
    assert runner.catch_up() > 0
    assert {by: build_report(engine, first, last, by) for by in reports} == reports
    with engine.db.transaction(immediate=False) as cur:
        rollup = cur.execute(f"SELECT grouping, value, day, kind, on_time, n FROM {DAILY}"
                             ).fetchall()
        assert sorted(map(tuple, rollup)) == sorted(map(tuple, rollup_rows(cur)))
    # The rollup is the facts summed: every unit's own report (read from its facts)
    # equals its row of the centre's report by unit (read from the rollup).
    for row in reports["dept"]["rows"]:
        own = build_report(engine, first, last, None, identity=Identity(
            roles=("department",), id=row["group"], dept=row["group"]))["rows"][0]["kpis"]
        assert {n: f for n, f in own.items() if n in row["kpis"]} == row["kpis"]


def test_a_unit_sees_only_its_own_figures(engine: Engine, clock: SimClock) -> None:
    mixed_store(engine, clock)
    first, last = date(2025, 11, 1), date(2026, 1, 31)
    by_dept = {r["group"]: r["kpis"] for r in build_report(engine, first, last, "dept")["rows"]}
    own = build_report(engine, first, last, None,
                       identity=Identity(roles=("department",), id=OTHER, dept=OTHER))
    kpis = own["rows"][0]["kpis"]
    assert kpis["return_rate"] == by_dept[OTHER]["return_rate"]
    assert kpis["direct_answer_rate"]["denominator"] == 0


def test_bad_periods_and_groupings_are_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="晚于"):
        build_report(engine, date(2025, 2, 1), date(2025, 1, 1), None)
    with pytest.raises(InvalidInput, match="unknown grouping"):
        build_report(engine, date(2025, 1, 1), date(2025, 1, 2), "weather")


def test_readme_lists_every_kpi_from_the_registry() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert kpi_table_markdown() in readme
    assert len(KPIS) == len({k.name for k in KPIS})




def test_cli_report_json_csv_xlsx_and_refusals(sqlite_engine: Engine, clock: SimClock,
                                               tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tests.test_cli import refused

    mixed_store(sqlite_engine, clock)
    db = str(sqlite_engine.config.sqlite_path)
    wanted = build_report(sqlite_engine, date(2025, 11, 1), date(2026, 1, 31), "dept")
    done = rexian(db, "report", "--from", "2025-11-01", "--to", "2026-01-31", "--by", "dept",
                  "--csv", str(tmp_path / "r.csv"), "--xlsx", str(tmp_path / "r.xlsx"),
                  "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == wanted
    lines = list(csv.reader((tmp_path / "r.csv").open(encoding="utf-8-sig")))
    sheet = load_workbook(tmp_path / "r.xlsx").active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(lines) == len(cells) == 1 + sum(len(r["kpis"]) for r in wanted["rows"])
    row = next(r for r in wanted["rows"] if r["group"] == LEAD)["kpis"]["return_rate"]
    assert [LEAD, "return_rate", "退单率", str(row["numerator"]), str(row["denominator"])] in \
        [line[:5] for line in lines]
    # A department role sees only its own unit.
    own = rexian(db, "--role", "department", "report", "--dept", OTHER, "--from",
                 "2025-11-01", "--to", "2026-01-31", "--json")
    assert own.returncode == 0, own.stderr
    kpis = json.loads(own.stdout)["rows"][0]["kpis"]
    other = next(r for r in wanted["rows"] if r["group"] == OTHER)["kpis"]
    assert kpis["return_rate"] == other["return_rate"]
    assert "晚于" in refused(db, None, "report", "--from", "2025-02-01", "--to", "2025-01-01")
    assert "YYYY-MM-DD" in refused(db, None, "report", "--from", "2025-1-1", "--to",
                                   "2025-01-31")
    assert "unknown grouping" in refused(db, None, "report", "--from", "2025-01-01", "--to",
                                         "2025-01-31", "--by", "weather")
