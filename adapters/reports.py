"""A period's KPI report (`rexian report`, /api/report, ReportService, the 总览 panels): one
GROUP BY over the KPI projection's daily rollup (a unit's own report: over its facts;
projections/kpi_facts.py), shaped as the issue's JSON:
{"from", "to", "by", "rows": [{"group", "kpis": {NAME: {"numerator", "denominator", "rate"}}}]}."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from domain.access.roles import Identity
from domain.errors import InvalidInput, shown
from domain.kpi.registry import ALL, GROUPINGS, KPIS, Count, Kpi
from projections.kpi_facts import DAILY, FACTS, NO_FLAG, OVERALL

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

Tally = dict[tuple[str, int | None], int]  # (kind, on_time) -> facts


def report_day(field: str, text: str | None) -> date:
    """A period's end from its text (YYYY-MM-DD): the CLI, the console and ReportService."""
    try:
        return date.fromisoformat(text or "")
    except (TypeError, ValueError):
        raise InvalidInput(field, f"{field} 应为日期 YYYY-MM-DD：{shown(str(text), 40)}",
                           f"{field} must be a date YYYY-MM-DD: {shown(str(text), 40)!r}"
                           ) from None


def check_period(date_from: date, date_to: date, by: str | None) -> None:
    if date_from > date_to:
        raise InvalidInput("from", f"起始日期 {date_from} 晚于结束日期 {date_to}",
                           f"--from {date_from} is after --to {date_to}")
    if by is not None and by not in GROUPINGS:
        raise InvalidInput("by", f"未知分组“{str(by)[:40]}”，可选：{'、'.join(GROUPINGS)}",
                           f"unknown grouping {str(by)[:40]!r}; expected one of "
                           f"{', '.join(GROUPINGS)}")


def count(tally: Tally, what: Count) -> int:
    return sum(n for (kind, flag), n in tally.items()
               if kind in what.kinds and (what.on_time is None or flag == int(what.on_time)))


def figures(tally: Tally, kpi: Kpi) -> dict[str, Any]:
    numerator, denominator = count(tally, kpi.numerator), count(tally, kpi.denominator)
    rate = round(numerator / denominator, 6) if denominator else None
    return {"numerator": numerator, "denominator": denominator, "rate": rate}


def build_report(engine: Engine, date_from: date, date_to: date, by: str | None, *,
                 identity: Identity | None = None) -> dict[str, Any]:
    """The KPIs over facts dated `date_from`..`date_to` (inclusive Beijing dates), overall
    or one row per `by` value. A department identity sees only its own unit's facts."""
    check_period(date_from, date_to, by)
    engine.runners["kpi_facts"].catch_up()
    unit = identity.dept if identity is not None else None
    period = [date_from.isoformat(), date_to.isoformat()]
    with engine.db.transaction(immediate=False) as cur:
        if unit:  # one unit's facts
            column = by or "NULL"  # PostgreSQL refuses a constant in GROUP BY
            grouped = f"{by}, kind, on_time" if by else "kind, on_time"
            rows = cur.execute(
                f"SELECT {column}, kind, on_time, COUNT(*) FROM {FACTS} WHERE dept = ? "
                f"AND day >= ? AND day <= ? GROUP BY {grouped}", [unit, *period]).fetchall()
        else:  # the daily rollup: a few hundred rows a day, whatever the volume
            rows = cur.execute(
                f"SELECT value, kind, on_time, SUM(n) FROM {DAILY} WHERE grouping = ? "
                "AND day >= ? AND day <= ? GROUP BY value, kind, on_time",
                [by or OVERALL, *period]).fetchall()
    groups: dict[str, Tally] = {}
    for group, kind, flag, n in rows:
        if by == "dept" and group is None:
            continue  # registrations and direct answers belong to no unit
        tally = groups.setdefault(ALL if by is None else str(group), {})
        flag = None if flag is None or flag == NO_FLAG else int(flag)
        tally[(kind, flag)] = tally.get((kind, flag), 0) + int(n)
    if by is None:
        groups.setdefault(ALL, {})
    kpis = [k for k in KPIS if by != "dept" or k.by_dept]
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "by": by,
            "rows": [{"group": group, "kpis": {k.name: figures(tally, k) for k in kpis}}
                     for group, tally in sorted(groups.items())]}
