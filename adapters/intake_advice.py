"""What an agent sees with a new order, whichever front end took it (the CLI's `intake
--json`, gRPC Intake): the candidate duplicates to merge in one step and the 群诉预警 the
order raised or grew (adapters/duplicates.py), then its dispatch suggestions and, when the
policy is on, the automatic dispatch (adapters/dispatch.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.bootstrap import Engine


def intake_advice(engine: Engine, ticket_no: str) -> dict[str, Any]:
    """The order's view with `duplicate_candidates`, `mass_complaint`,
    `dispatch_suggestions` and `auto_dispatched` (and `dispatch_advice_error` when the
    suggestions could not be given). The order is already recorded: nothing here undoes it."""
    from adapters.dispatch import intake_advice as dispatch_advice  # 智能派单
    from adapters.duplicates import intake_advice as duplicate_advice  # 并单建议, 群诉预警

    view = engine.service.show(ticket_no)
    view.update(duplicate_advice(engine, ticket_no))
    view.update(dispatch_advice(engine, ticket_no))  # after an auto-dispatch: the new view
    return view
