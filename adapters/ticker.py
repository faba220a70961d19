"""The deadline ticker: revises clocks whose calendar changed, then performs every ladder
step that has come due, exactly once."""

from __future__ import annotations

from collections.abc import Callable

from adapters.bootstrap import Engine
from domain.workorder import LADDER_STEPS
from projections.clock_basis import stale_clocks
from projections.deadline_index import due_tickets

STEP_NAMES = {"warning": "临期提醒", "level1": "一级催办", "level2": "超期督办", "level3": "通报"}
REVISED = "revised"
ERASED = "erased"  # citizens erased under the retention policy (config/retention.toml)
COUNT_NAMES = {**STEP_NAMES, REVISED: "时限修订", ERASED: "保存期满删除"}
CHUNK = 256  # orders decided before their saves are committed together (memory bound)


def tick(engine: Engine, on_progress: Callable[[int, int], None] | None = None
         ) -> dict[str, int]:
    """One tick: take the store's calendar imports, revise stale clocks, bring the index up
    to date, take the due steps, erase what the retention policy says is due; return counts
    per step (and revisions, erasures). `on_progress(done, total)` follows the due orders
    (a progress bar: a busy morning has thousands)."""
    counts = dict.fromkeys(LADDER_STEPS, 0)
    counts[REVISED] = revise_clocks(engine)
    index = engine.runners["deadline_index"]
    index.catch_up()
    now = engine.service.now()
    with engine.db.transaction(immediate=False) as cur:
        candidates = due_tickets(cur, now.timestamp())
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start:start + CHUNK]
        for steps in engine.service.escalate_all_due(chunk).values():
            for step in steps:
                counts[step] += 1
        if on_progress is not None:
            on_progress(start + len(chunk), len(candidates))
    index.catch_up()
    counts[ERASED] = engine.erase_expired()
    return counts


def revise_clocks(engine: Engine) -> int:
    """Recompute every running clock computed on another version of a year than the
    calendar now has (one DeadlineRevised each); a second call finds none."""
    service = engine.service
    if service.deadlines is None:
        return 0
    # Other processes may have imported a notice; the wall clock may have reached a new year.
    service.refresh_calendar()
    runner = engine.runners["clock_basis"]
    runner.catch_up()
    versions = {a.year: a.version for a in service.deadlines.calendar.arrangements()}
    with engine.db.transaction(immediate=False) as cur:
        candidates = stale_clocks(cur, versions)
    revised = sum(1 for ticket_no in candidates if service.revise_deadline(ticket_no))
    if revised:
        runner.catch_up()
    return revised
