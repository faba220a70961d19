"""What the console's pages show, read from the engine's read models and orders.

Counts come from projections (the ticket list, the deadline index, campaign progress); the
lists of orders a page shows are bounded and each order is loaded for its deadlines and SLA
state (the same view `rexian show` prints, masked).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from domain import lifecycle as lc
from domain.workorder import LADDER_STEPS
from projections.callback_queue import QUEUE as CALLBACK_QUEUE
from projections.campaign_progress import CAMPAIGNS, progress
from projections.deadline_index import INDEX as DEADLINE_INDEX
from projections.tickets import TICKETS

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

# The ladder's steps as staff name them (提醒 → 催办 → 督办 → 通报).
LADDER_LABELS: Final = {"warning": "提醒", "level1": "催办", "level2": "督办", "level3": "通报"}
# A page lists at most this many orders (the rest are counted, not shown).
LIST_LIMIT: Final = 200


def open_by_state(engine: Engine) -> dict[str, int]:
    """Open orders per state (every open state, zeros included)."""
    engine.runners["tickets"].catch_up()
    marks = ", ".join("?" for _ in lc.OPEN_STATES)
    with engine.db.transaction(immediate=False) as cur:
        rows = cur.execute(f"SELECT state, COUNT(*) FROM {TICKETS} WHERE state IN ({marks}) "
                           "GROUP BY state", lc.OPEN_STATES).fetchall()
    found = {state: int(count) for state, count in rows}
    return {state: found.get(state, 0) for state in lc.OPEN_STATES}


def _open_in_index(engine: Engine, condition: str, params: tuple[Any, ...],
                   limit: int = LIST_LIMIT) -> list[tuple[str, list[str]]]:
    """(ticket number, ladder steps taken) of open orders whose deadline-index row meets
    `condition` (SQL on the row `d`), by ticket number."""
    engine.runners["deadline_index"].catch_up()
    engine.runners["tickets"].catch_up()
    marks = ", ".join("?" for _ in lc.OPEN_STATES)
    with engine.db.transaction(immediate=False) as cur:
        rows = cur.execute(
            f"SELECT d.ticket_no, d.done FROM {DEADLINE_INDEX} d JOIN {TICKETS} t "
            f"ON t.originator_id = d.originator_id WHERE t.state IN ({marks}) "
            f"AND {condition} ORDER BY d.ticket_no LIMIT ?",
            (*lc.OPEN_STATES, *params, limit)).fetchall()
    return [(ticket_no, json.loads(done)) for ticket_no, done in rows]


def _took(step: str) -> tuple[str, str]:
    return "d.done LIKE ?", f'%"{step}"%'


def ladder_counts(engine: Engine) -> dict[str, int]:
    """Open orders that have reached each ladder step (an order at 督办 has also passed 提醒
    and 催办: each step counts the orders that took it)."""
    engine.runners["deadline_index"].catch_up()
    engine.runners["tickets"].catch_up()
    marks = ", ".join("?" for _ in lc.OPEN_STATES)
    counts = {}
    with engine.db.transaction(immediate=False) as cur:
        for step in LADDER_STEPS:
            condition, pattern = _took(step)
            row = cur.execute(
                f"SELECT COUNT(*) FROM {DEADLINE_INDEX} d JOIN {TICKETS} t "
                f"ON t.originator_id = d.originator_id WHERE t.state IN ({marks}) "
                f"AND {condition}", (*lc.OPEN_STATES, pattern)).fetchone()
            counts[LADDER_LABELS[step]] = int(row[0])
    return counts


def _summary(view: dict[str, Any]) -> dict[str, Any]:
    keys = ("ticket_no", "state", "substate", "category", "urgency", "channel", "region",
            "department", "assist_departments", "caller_name", "created_at",
            "dispatch_due_at", "due_at", "sla_state", "escalation_level")
    return {key: view.get(key) for key in keys}


def _views(engine: Engine, ticket_nos: list[str]) -> list[dict[str, Any]]:
    return [_summary(engine.service.show(no)) for no in ticket_nos]


def pending_dispatch(engine: Engine) -> list[dict[str, Any]]:
    """待派单: registered orders not yet dispatched, the earliest dispatch deadline first."""
    rows = engine.list(state=lc.INTAKE, limit=LIST_LIMIT)
    views = _views(engine, [row["ticket_no"] for row in rows])
    views.sort(key=lambda v: v["dispatch_due_at"] or "9999")
    return views


def unit_orders(engine: Engine, dept: str) -> list[dict[str, Any]]:
    """A unit's open orders (lead or assisting), the earliest due first."""
    rows = [r for r in engine.list(dept=dept, limit=LIST_LIMIT * 5)
            if r["state"] in lc.OPEN_STATES][:LIST_LIMIT]
    views = _views(engine, [row["ticket_no"] for row in rows])
    views.sort(key=lambda v: v["due_at"] or "9999")
    return views


def ladder_orders(engine: Engine) -> list[dict[str, Any]]:
    """The supervisor's ladder: open orders that have taken a ladder step, the highest
    step first, each with the steps taken."""
    result = []
    for ticket_no, done in _open_in_index(engine, "d.done <> '[]'", ()):
        view = _summary(engine.service.show(ticket_no))
        view["ladder_steps"] = [LADDER_LABELS[s] for s in done]
        result.append(view)
    result.sort(key=lambda v: (-len(v["ladder_steps"]), v["due_at"] or "9999"))
    return result


def near_due_and_overdue(engine: Engine, limit: int = 20) -> dict[str, list[dict[str, Any]]]:
    """临期 and 超期 open orders: those past the ladder's 提醒 step (an order's warning
    instant), each judged by its own SLA state now."""
    near: list[dict[str, Any]] = []
    over: list[dict[str, Any]] = []
    condition, pattern = _took("warning")
    for ticket_no, _done in _open_in_index(engine, condition, (pattern,), limit * 10):
        view = _summary(engine.service.show(ticket_no))
        if view["sla_state"] == "超期" and len(over) < limit:
            over.append(view)
        elif view["sla_state"] == "临期" and len(near) < limit:
            near.append(view)
    return {"near_due": near, "overdue": over}


def callback_queue(engine: Engine) -> dict[str, int]:
    """Callbacks still to make (the robot's queue): not yet dialled, dialled and to be
    retried, out of attempts (left to an agent)."""
    engine.runners["callback_queue"].catch_up()
    with engine.db.transaction(immediate=False) as cur:
        row = cur.execute(
            f"SELECT COUNT(CASE WHEN attempts = 0 AND exhausted = 0 THEN 1 END), "
            "COUNT(CASE WHEN attempts > 0 AND exhausted = 0 THEN 1 END), "
            f"COUNT(CASE WHEN exhausted <> 0 THEN 1 END) FROM {CALLBACK_QUEUE} "
            "WHERE kind = 'callback'").fetchone()
    return {"待回访": int(row[0]), "重拨中": int(row[1]), "转人工回访": int(row[2])}


def campaigns(engine: Engine) -> list[dict[str, Any]]:
    """Every campaign's progress (projections/campaign_progress.py)."""
    engine.runners["campaign_progress"].catch_up()
    with engine.db.transaction(immediate=False) as cur:
        names = [r[0] for r in cur.execute(
            f"SELECT campaign_id FROM {CAMPAIGNS} ORDER BY updated_at DESC LIMIT 20").fetchall()]
        return [p for p in (progress(cur, name) for name in names) if p is not None]
