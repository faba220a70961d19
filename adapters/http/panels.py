"""The 总览 panels drawn from the KPI report (adapters/reports.py), so the dashboard and
`rexian report` can never disagree: intake today and this month by channel and category
(orders registered: 直接答复率's denominator), units ranked by 按期办结率 and 满意率 this
month, the monthly satisfaction trend, and this month's callback results."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Final

from adapters.reports import build_report
from domain.kpi.registry import BEIJING

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

TREND_MONTHS: Final = 6


def _figure(row: dict[str, Any], kpi: str, part: str) -> Any:
    return row["kpis"][kpi][part]


def intake(report: dict[str, Any]) -> dict[str, int]:
    """Orders registered per group (groups with none left out), the largest first."""
    counts = {row["group"]: _figure(row, "direct_answer_rate", "denominator")
              for row in report["rows"]}
    return dict(sorted(((g, n) for g, n in counts.items() if n), key=lambda gn: -gn[1]))


def units_ranked(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Units by 按期办结率 then 满意率 (a unit with no resolution yet last)."""
    rows = [{"group": row["group"], "on_time": _figure(row, "on_time_resolution_rate", "rate"),
             "satisfaction": _figure(row, "satisfaction_rate", "rate")}
            for row in report["rows"]]

    def key(r: dict[str, Any]) -> tuple[bool, float, bool, float, str]:
        return (r["on_time"] is None, -(r["on_time"] or 0.0), r["satisfaction"] is None,
                -(r["satisfaction"] or 0.0), r["group"])
    return sorted(rows, key=key)


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    following = month_start(first, -1)
    return date.fromordinal(following.toordinal() - 1)


def report_panels(engine: Engine, *, identity: Any = None) -> dict[str, Any]:
    """The panels for `identity` (a unit's account sees only its own figures)."""
    today = engine.service.now().astimezone(BEIJING).date()
    first = month_start(today)

    def get(since: date, until: date, by: str | None) -> dict[str, Any]:
        return build_report(engine, since, until, by, identity=identity)

    panels: dict[str, Any] = {
        f"intake_{span}_{by}": intake(get(since, today, by))
        for span, since in (("today", today), ("month", first))
        for by in ("channel", "category")}
    panels["units_ranked"] = units_ranked(get(first, today, "dept"))
    trend: dict[str, float] = {}
    for back in range(TREND_MONTHS - 1, -1, -1):
        since = month_start(today, back)
        row = get(since, min(month_end(since), today), None)["rows"][0]
        rate = _figure(row, "satisfaction_rate", "rate")
        if rate is not None:
            trend[since.strftime("%Y-%m")] = round(rate * 100, 1)
    panels["satisfaction_trend"] = trend
    month = get(first, today, None)["rows"][0]
    satisfied = _figure(month, "satisfaction_rate", "numerator")
    answered = _figure(month, "satisfaction_rate", "denominator")
    recorded = _figure(month, "callback_rate", "denominator")
    panels["callbacks"] = {"满意/基本满意": satisfied, "不满意": answered - satisfied,
                           "无法联系": recorded - answered}
    return panels
