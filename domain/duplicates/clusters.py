"""When an order makes or grows a mass complaint (群诉): a pure decision on what the read
model knows about the order's neighbours.

The neighbours are the area's orders registered within the mass-complaint window before
the order (not withdrawn), each with its similarity to the order, its citizen (None once
erased: not counted) and the alert it already belongs to, if any.

* a similar neighbour already in an alert: the order joins that alert (the best-scoring
  one's, when several);
* otherwise the order and its similar neighbours form a new cluster when they come from at
  least K distinct citizens: one alert, seeded by the order. One citizen calling K times is
  one citizen: no alert.
"""

from __future__ import annotations

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


def decide(ticket_no: str, citizen: str | None, neighbours: list[Neighbour],
           rules: MassComplaintRules,
           alert_citizens: dict[str, set[str]] | None = None) -> Join | Raise | None:
    """What the order's arrival means for mass complaints (None: nothing).
    `alert_citizens`: the known citizens of each alert the neighbours belong to."""
    similar = sorted((n for n in neighbours if n.score >= rules.threshold and
                      n.ticket_no != ticket_no), key=lambda n: (-n.score, n.ticket_no))
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
