"""Every KPI the centre reports, defined once: its Chinese label, formula text and which
counted facts (projections/kpi_facts.py) form its numerator and denominator. The README's
KPI section, the console's tooltips and adapters/reports.py all read this table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

BEIJING = timezone(timedelta(hours=8))  # periods are inclusive Beijing-time dates

# Fact kinds, one row per counted event (projections/kpi_facts.py writes them).
REGISTERED = "registered"
ANSWERED = "answered"
FIRST_DISPATCH = "first_dispatch"      # flag: at or before the order's dispatch deadline
DISPATCH = "dispatch"                  # 派单 and 改派
SIGNED = "signed"                      # flag: at or before the sign deadline
RETURNED = "returned"
RESOLVED = "resolved"                  # flag: at or before the due time then in force
EXTENSION_APPROVED = "extension_approved"
CALLBACK_SATISFIED = "callback_satisfied"      # 满意, 基本满意
CALLBACK_UNSATISFIED = "callback_unsatisfied"  # 不满意 (the order reopens: 重办)
CALLBACK_UNREACHABLE = "callback_unreachable"  # 无法联系
# The ladder's steps (domain/policies/deadlines.py) as fact kinds.
LADDER_STEPS = {"warning": "提醒", "level1": "催办", "level2": "督办", "level3": "通报"}
LADDER = {step: f"ladder_{step}" for step in LADDER_STEPS}


@dataclass(frozen=True)
class Count:
    """A count of facts: of these kinds, and when `on_time` is set only those flagged so."""
    kinds: tuple[str, ...]
    on_time: bool | None = None


@dataclass(frozen=True)
class Kpi:
    name: str        # the English identifier, the JSON key
    label: str       # the Chinese name shown to people
    formula: str
    numerator: Count
    denominator: Count
    by_dept: bool = True  # False: no unit is lead when the counted event happens


CALLBACKS = (CALLBACK_SATISFIED, CALLBACK_UNSATISFIED, CALLBACK_UNREACHABLE)

KPIS: tuple[Kpi, ...] = (
    Kpi("direct_answer_rate", "直接答复率",
        "受理时直接答复的工单数 ÷ 期间登记的工单数",
        Count((ANSWERED,)), Count((REGISTERED,)), by_dept=False),
    Kpi("timely_dispatch_rate", "及时派单率",
        "在派单时限内（含）的首次派单数 ÷ 期间首次派单数",
        Count((FIRST_DISPATCH,), on_time=True), Count((FIRST_DISPATCH,))),
    Kpi("on_time_resolution_rate", "按期办结率",
        "在当时有效的办结时限内（含已批准的延期）办结的次数 ÷ 期间办结次数（重办后再次办结计两次）",
        Count((RESOLVED,), on_time=True), Count((RESOLVED,))),
    Kpi("satisfaction_rate", "满意率",
        "回访结果为满意、基本满意的数 ÷ 满意、基本满意、不满意的数（不含无法联系）",
        Count((CALLBACK_SATISFIED,)), Count((CALLBACK_SATISFIED, CALLBACK_UNSATISFIED))),
    Kpi("reopen_rate", "重办率",
        "因回访不满意而重办的数 ÷ 期间办结次数",
        Count((CALLBACK_UNSATISFIED,)), Count((RESOLVED,))),
    Kpi("return_rate", "退单率",
        "退单数 ÷ 期间派单数（派单 + 改派）",
        Count((RETURNED,)), Count((DISPATCH,))),
    Kpi("callback_rate", "回访率",
        "回访结果不是无法联系的数 ÷ 期间记录的回访数",
        Count((CALLBACK_SATISFIED, CALLBACK_UNSATISFIED)), Count(CALLBACKS)),
    Kpi("timely_sign_rate", "及时签收率",
        "在签收时限内（含）的签收数 ÷ 期间签收数",
        Count((SIGNED,), on_time=True), Count((SIGNED,))),
    Kpi("extension_rate", "延期率",
        "批准的延期数 ÷ 期间派单数（派单 + 改派）",
        Count((EXTENSION_APPROVED,)), Count((DISPATCH,))),
    Kpi("overdue_rate", "超期率",
        "超过办结时限后办结的次数 ÷ 期间办结次数",
        Count((RESOLVED,), on_time=False), Count((RESOLVED,))),
    *(Kpi(f"ladder_{step}", label, f"期间{label}次数（分母为期间派单数）",
          Count((LADDER[step],)), Count((DISPATCH,)))
      for step, label in LADDER_STEPS.items()),
)

# Groupings of a report, each a column of a fact row.
GROUPINGS = ("dept", "category", "region", "channel")
ALL = "全部"


def kpi_table_markdown() -> str:
    """The README's KPI section body (checked by tests/test_kpi_report.py)."""
    lines = ["| KPI | 名称 | 公式 |", "|---|---|---|"]
    lines += [f"| `{k.name}` | {k.label} | {k.formula} |" for k in KPIS]
    return "\n".join(lines) + "\n"
