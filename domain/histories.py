"""`rexian history` for any audited aggregate (a knowledge-base article, an inbound call…):
the aggregate as it was at a moment and every event up to then, in the work order's shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import InvalidInput
from domain.views import history_entry, iso


def aggregate_history(app: Any, aggregate_id: UUID, ref: str, as_of: datetime | None,
                      view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    events = [e for e in app.events.get(aggregate_id)
              if as_of is None or e.timestamp <= as_of]
    if not events:
        raise InvalidInput("as_of", f"{ref} 在 {iso(as_of)} 时尚未记录",
                           f"{ref} was not recorded yet at {iso(as_of)}")
    then = app.repository.get(aggregate_id, version=events[-1].originator_version)
    return {"ticket_no": ref, "as_of": iso(as_of) if as_of else None, "state": view(then),
            "events": [history_entry(e) for e in events]}
