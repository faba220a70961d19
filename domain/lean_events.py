"""Event classes that cost less to define: `class Event(Aggregate.Event, metaclass=LeanEvents)`.

eventsourcing makes every event class a frozen dataclass (MetaDomainEvent), and the
dataclass machinery compiles six methods per class with exec: about half of the import
of domain.workorder, paid by every CLI run. __eq__, __hash__ and __repr__ only differ
by the class's fields, so here they are written once, on the aggregate's base event, and
inherited; __init__ and the frozen __setattr__/__delattr__ are still generated per class.
Topics, fields, construction and immutability are eventsourcing's, unchanged.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from eventsourcing.domain import MetaDomainEvent


def _values(event: Any, use: str) -> tuple[Any, ...]:
    fields = dataclasses.fields(event)
    if use == "hash":  # what a frozen dataclass hashes: hash=True, or unset and compared
        return tuple(getattr(event, f.name) for f in fields
                     if f.hash or (f.hash is None and f.compare))
    return tuple(getattr(event, f.name) for f in fields if getattr(f, use))


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self, "compare") == _values(other, "compare")


def _hash(self: Any) -> int:
    return hash(_values(self, "hash"))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}"
                      for f in dataclasses.fields(self) if f.repr)
    return f"{self.__class__.__qualname__}({shown})"


class LeanEvents(MetaDomainEvent):
    """MetaDomainEvent without per-class __eq__, __hash__ and __repr__ (shared instead)."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        if not any(isinstance(base, LeanEvents) for base in bases):
            # The aggregate's base event: the shared methods, before eventsourcing's own
            # generated ones in the MRO of every event below it.
            namespace = {"__eq__": _eq, "__hash__": _hash, "__repr__": _repr, **namespace}
        # MetaDomainEvent.__new__ would run dataclass(frozen=True) with every method.
        cls: Any = super(MetaDomainEvent, mcs).__new__(mcs, name, bases, namespace)
        cls = dataclasses.dataclass(frozen=True, eq=False, repr=False)(cls)
        cls.__signature__ = inspect.signature(cls.__init__)
        return cls
