"""The deadline ticker: performs every ladder step that has come due, exactly once."""

from __future__ import annotations

from adapters.bootstrap import Engine
from domain.workorder import LADDER_STEPS
from projections.deadline_index import due_tickets

STEP_NAMES = {"warning": "临期提醒", "level1": "一级催办", "level2": "超期督办", "level3": "通报"}


def tick(engine: Engine) -> dict[str, int]:
    """One tick: bring the index up to date, take the due steps, return counts per step."""
    index = engine.runners["deadline_index"]
    index.catch_up()
    now = engine.service.now()
    with engine.db.transaction(immediate=False) as cur:
        candidates = due_tickets(cur, now.timestamp())
    counts = dict.fromkeys(LADDER_STEPS, 0)
    for ticket_no in candidates:
        for step in engine.service.escalate_due(ticket_no):
            counts[step] += 1
    index.catch_up()
    return counts
