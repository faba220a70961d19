"""删除权 (right to erasure): one citizen's personal data made unreadable everywhere.

The citizen's data key is shredded (crypto-shredding: every token sealed with it, in
events and snapshots alike, stops opening) in the same transaction that records
PersonalDataErased on each of their work orders. No event is changed or removed, so the
hash chains and the audit ledger still verify and every count stays what it was.

Erasure addresses a citizen, not an order, and prints a receipt rather than an order: it
is a command of its own (CLI `rexian erase`, RPC EraseCitizen), not a catalogue entry;
and it is owed whatever an order's state, so it is not a lifecycle command either.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from domain.errors import InvalidInput, UnknownCitizen
from domain.phone import mask_phone, normalize_phone
from domain.ports import CitizenOrders
from domain.values import Actor, require_text
from domain.views import iso

if TYPE_CHECKING:
    from domain.service import WorkOrderService
    from domain.workorder import WorkOrder


def erase_citizen(service: WorkOrderService, orders_of: CitizenOrders, *, citizen: str,
                  reason: str, actor: Actor) -> dict[str, Any]:
    """Shred the data key of the citizen with phone `citizen` and record the erasure on
    each of their orders; returns the receipt (masked phone, tickets, when). An unknown
    (or already erased) citizen is refused and nothing is recorded."""
    try:
        phone = normalize_phone(citizen)
    except InvalidInput as error:
        raise InvalidInput("citizen", error.zh, error.en) from None
    # Masked like any free text; nothing is sealed (the key is about to be shredded).
    reason = service._free_text().mask(require_text("reason", reason, "删除理由"))
    citizen_id = service.vault.find(phone)  # PersonalDataUnavailable without the KEK
    if citizen_id is None:
        raise UnknownCitizen(mask_phone(phone))
    receipt = erase_citizen_id(service, orders_of, citizen_id, reason=reason, actor=actor)
    assert receipt is not None  # no condition was set
    return {"citizen": mask_phone(phone), **receipt}


def erase_citizen_id(service: WorkOrderService, orders_of: CitizenOrders, citizen_id: str, *,
                     reason: str, actor: Actor, closed_before: datetime | None = None
                     ) -> dict[str, Any] | None:
    """erase_citizen for a citizen the caller found by id: the receipt without the phone.
    With `closed_before` (the retention policy's tick) nothing is erased, and None is
    returned, unless every order of the citizen closed before then: the read model that
    chose them may be behind a new call."""
    for _attempt in range(5):
        at = service.now()
        orders: list[WorkOrder] = []
        for ticket_no in orders_of.orders_of(citizen_id):
            order = service.load(ticket_no)
            if order.citizen_id != citizen_id:  # the index is a read model: trust the order
                continue
            if closed_before is not None and not (
                    order.is_terminal and order.closed_at and order.closed_at < closed_before):
                return None
            order.erase_personal(reason=reason, actor=actor, at=at)
            orders.append(order)
        try:
            # The key row goes with the events: never an Erased event with a live key,
            # never a shredded key without its events.
            service._commit(*orders, staged=[service.vault.shred(citizen_id)])
        except IntegrityError:
            continue  # a command on one of the orders came first: reload and decide again
        return {"tickets": [o.ticket_no for o in orders], "erased_at": iso(at),
                "reason": reason}
    raise RuntimeError("could not record the erasure after 5 attempts")
