"""When an order makes or grows a mass complaint (群诉): a pure decision on what the read
model knows about the order's neighbours.

The pool is the area's orders registered within the mass-complaint window before the order
(not withdrawn). The order's cluster is what it is linked to in that pool, directly or
through other orders, by similarities at or above the threshold (single link: citizens
describe one matter in many ways, and each need only read like one other report). Each
neighbour in the cluster comes with its own similarity to the order, its citizen (None once
erased: not counted) and the alert it already belongs to, if any.

* a neighbour already in an alert: the order joins that alert (the one of the neighbour
  most similar to the order, when several);
* otherwise the cluster forms a new alert when its orders come from at least K distinct
  citizens: one alert, seeded by the order. One citizen calling K times is one citizen: no
  alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.duplicates.settings import MassComplaintRules


@dataclass(frozen=True)
class Neighbour:
    ticket_no: str
    citizen: str | None
    score: float
    alert: str | None  # the alert it is a member of


@dataclass(frozen=True)
class Join:
    alert: str
    citizens: int  # distinct citizens of the alert's members and the order


@dataclass(frozen=True)
class Raise:
    members: list[str]  # ticket numbers, the order last
    citizens: int


def linked(similarity: Sequence[Sequence[float]], threshold: float) -> list[int]:
    """The indexes linked to the last row's item (the new order) through pairs scoring at or
    above `threshold`, itself excluded, ascending. Only the rows of the items reached are
    read (the adapter computes a row when it is read)."""
    start = len(similarity) - 1
    seen, todo = {start}, [start]
    while todo:
        row = similarity[todo.pop()]
        for other, score in enumerate(row):
            if score >= threshold and other not in seen:
                seen.add(other)
                todo.append(other)
    return sorted(seen - {start})


def decide(ticket_no: str, citizen: str | None, cluster: list[Neighbour],
           rules: MassComplaintRules,
           alert_citizens: dict[str, set[str]] | None = None) -> Join | Raise | None:
    """What the order's arrival means for mass complaints (None: nothing), given its
    `cluster` (see `linked`). `alert_citizens`: the known citizens of each alert the
    neighbours belong to."""
    similar = sorted((n for n in cluster if n.ticket_no != ticket_no),
                     key=lambda n: (-n.score, n.ticket_no))
    for neighbour in similar:
        if neighbour.alert is not None:
            known = set((alert_citizens or {}).get(neighbour.alert, set()))
            if citizen:
                known.add(citizen)
            return Join(neighbour.alert, len(known))
    citizens = {n.citizen for n in similar if n.citizen} | ({citizen} if citizen else set())
    if len(citizens) < rules.min_citizens:
        return None
    members = sorted(n.ticket_no for n in similar) + [ticket_no]
    return Raise(members, len(citizens))
