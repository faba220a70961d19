"""Catalogue rules: which items of the dispatch catalogue a request's words name, in its
region.

An item applies to its own region and every place inside it (a district item covers its
streets); where the same item is given for the district and for a street, the street's is
the answer there. A keyword (or the item's own name) found in the content counts by its
length: "拖欠工资" says more than "坑".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.dispatch.catalogue import CatalogueItem


@dataclass(frozen=True)
class RuleHit:
    """The best matching item of one lead unit."""

    item: CatalogueItem
    matched: tuple[str, ...]  # the keywords found, longest first
    weight: float  # characters matched (overlapping keywords count once each)


def _matched(item: CatalogueItem, content: str) -> tuple[str, ...]:
    terms = {*item.keywords, item.item}
    found = sorted((t for t in terms if t and t in content), key=lambda t: (-len(t), t))
    # A keyword inside a longer one found ("楼道" in "楼道堆物") adds nothing.
    kept: list[str] = []
    for term in found:
        if not any(term in longer for longer in kept):
            kept.append(term)
    return tuple(kept)


def applicable(items: Iterable[CatalogueItem], region: str) -> list[CatalogueItem]:
    """The items that apply in `region`, the most specific region's item of each name."""
    best: dict[str, CatalogueItem] = {}
    for item in items:
        if not item.applies_to(region):
            continue
        known = best.get(item.item)
        if known is None or len(item.region) > len(known.region):
            best[item.item] = item
    return list(best.values())


def match(items: Iterable[CatalogueItem], content: str, region: str) -> dict[str, RuleHit]:
    """The best hit per lead unit (unit -> hit) among the items applying in `region`."""
    hits: dict[str, RuleHit] = {}
    for item in applicable(items, region):
        matched = _matched(item, content)
        if not matched:
            continue
        hit = RuleHit(item, matched, float(sum(len(t) for t in matched)))
        known = hits.get(item.lead)
        if known is None or hit.weight > known.weight:
            hits[item.lead] = hit
    return hits
