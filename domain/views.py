"""What staff and integrators read: the JSON shapes of `show` and `history`.

Presentation only, kept out of the application service: personal data masked, every
instant in Beijing time with its offset — including the instants that events keep inside
their records as UTC ISO strings (returns, supervision orders, callback, ladder...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from domain.phone import mask_name, mask_phone
from domain.policies.clock import deadline_basis
from domain.ports import PersonalData

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Before 1901 the tz database gives Shanghai its local mean time (+08:05:43): nobody reads
# a hotline record that way, so such instants show in China Standard Time.
CST = timezone(timedelta(hours=8), "CST")
_TZ_DATABASE_FROM = datetime(1901, 1, 1, tzinfo=CST)
# Keys whose string values are instants the aggregate stored in UTC.
_INSTANT_KEYS = frozenset({"at", "eta"})
_LADDER_KEYS = frozenset({"ladder", "previous_ladder"})


def beijing(instant: datetime) -> datetime:
    return instant.astimezone(CST if instant < _TZ_DATABASE_FROM else SHANGHAI)


def iso(value: datetime | None) -> str | None:
    """Instants are shown in Beijing time, the hotline's own clock."""
    return beijing(value).isoformat() if value else None


def localized(value: Any, key: str = "", in_ladder: bool = False) -> Any:
    """``value`` JSON-ready: datetimes and stored instant strings in Beijing time."""
    if isinstance(value, dict):
        return {k: localized(v, k, key in _LADDER_KEYS) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [localized(v, key) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str) and (in_ladder or key in _INSTANT_KEYS or key.endswith("_at")):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        return iso(instant) if instant.tzinfo else value
    return value


def order_view(order: Any, personal: PersonalData | None, sla_state: str | None,
               caller: tuple[str, str | None] = ("available", None)) -> dict[str, Any]:
    """The JSON shape of `show` for a WorkOrder (``personal`` opened from the vault;
    ``caller``: its status, available / erased / unavailable, and a note for people)."""
    due_year = beijing(order.due_at).year if order.due_at else None
    view = {
        "ticket_no": order.ticket_no,
        "state": order.state,
        "substate": order.substate,
        "category": order.category,
        "urgency": order.urgency,
        "channel": order.channel,
        "region": order.region,
        "content": order.content,
        "caller_name": mask_name(personal.name) if personal else None,
        "caller_phone": mask_phone(personal.phone) if personal else None,
        "caller_status": caller[0],
        "caller_note": caller[1],
        "erased": localized(getattr(order, "erased", None)),  # 删除权: when and why
        "department": order.department,
        "assist_departments": list(order.assist_departments),
        "reopen_count": order.reopen_count,
        "return_count": order.return_count,
        "returns": localized(order.returns),
        "supervision_orders": localized(order.supervision_orders),
        "extensions": localized(order.extensions),
        "pending_extension": localized(order.pending_extension),
        "reply": order.reply,
        "callback": localized(order.callback),
        "flags": list(order.flags),
        "merged_into": order.merged_into,
        "duplicates": list(order.duplicates),
        "transfer": order.transferred_to,
        "closing_reason": order.closing_reason,
        "created_at": iso(order.created_at),
        "dispatched_at": iso(order.dispatched_at),
        "signed_at": iso(order.signed_at),
        "resolved_at": iso(order.resolved_at),
        "closed_at": iso(order.closed_at),
        "dispatch_due_at": iso(order.dispatch_due_at),
        "sign_due_at": iso(order.sign_due_at),
        "due_at": iso(order.due_at),
        "deadline_basis": deadline_basis(order.calendar, due_year) if order.due_at else None,
        "sla_state": sla_state,
        "escalation_level": order.escalation_level,
        "plan": localized(order.plan),
        "notices": localized(order.notices),
        "call_attempts": localized(order.call_attempts),
        "handoffs": localized(order.handoffs),
        "version": order.version,
        "revealed": False,  # personal data masked (True only in a logged reveal)
    }
    return view


def revealed(view: dict[str, Any], personal: PersonalData,
             later: Sequence[str] = ()) -> dict[str, Any]:
    """`view` with the caller and the personal data masked in its free text shown in full:
    the content's (sealed at intake, ``personal.extra``) and the later commands' texts
    (``later``, domain/free_text.py), each value put back where its mask is."""
    from domain.free_text import restore_all

    shown = {k: v for k, v in view.items() if k not in ("caller_name", "caller_phone")}
    texts: list[str | None] = []
    _walk(shown, texts.append)
    restored = iter(restore_all(texts, [*personal.extra, *later]))
    shown = _walk(shown, lambda _text: next(restored))
    return {**shown, "caller_name": personal.name, "caller_phone": personal.phone,
            "revealed": True}


def _walk(value: Any, visit: Callable[[str], Any]) -> Any:
    """`value` rebuilt with every string replaced by visit(string), in a fixed order."""
    if isinstance(value, str):
        result = visit(value)
        return value if result is None else result
    if isinstance(value, dict):
        return {k: _walk(v, visit) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, visit) for v in value]
    return value


# Event fields that hold personal data sealed by the vault, or link to the person (the
# citizen id): never shown, fed to units or published (adapters/grpc/feed.py, kafka/avro.py).
PERSONAL_FIELDS = frozenset({"personal", "citizen_id", "sealed"})
_BOOKKEEPING = frozenset({"originator_id", "originator_version", "timestamp",
                          "originator_topic", "actor_role", "actor_id", "prev_hash"}
                         ) | PERSONAL_FIELDS


def history_entry(event: Any) -> dict[str, Any]:
    """One stored event as `history` shows it: who, when, what (no personal data)."""
    details = {k: v for k, v in event.__dict__.items() if k not in _BOOKKEEPING}
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "at": iso(event.timestamp),
        "actor": {"role": event.actor_role, "id": event.actor_id},
        "details": localized(details),
    }
