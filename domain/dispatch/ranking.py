"""Dispatch suggestions (智能派单): the catalogue's rules and the centre's own dispatch history
combined into the top units for a request, best first, each with its reason.

score = MODEL_WEIGHT · p(unit | text, category, region) from the history model
      + (1 − MODEL_WEIGHT) · strength of the unit's best catalogue match
      − RETURN_PENALTY per similar order the unit returned (at most MAX_RETURNS counted).

A request often ends with a second, minor matter ("……另外门口垃圾也没人收"): what follows
such a marker counts at ASIDE_WEIGHT only, so the main matter decides the lead unit and the
aside can still reach the top three.

With no trained model the rules alone rank; with no catalogue item matched, the model
alone. The weights were fixed on the training part of the corpus (tools/make_dispatch_corpus.py),
never on its held-out part.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.dispatch.catalogue import CatalogueItem
from domain.dispatch.rules import RuleHit, match

MODEL_WEIGHT = 0.5
ASIDE_WEIGHT = 0.25
ASIDE_MARKERS = ("另外", "还有就是", "顺便", "此外", "再就是", "还有个事", "还有一件事")
RETURN_PENALTY = 0.1
MAX_RETURNS = 3
TOP = 3
# Characters of keyword matched for a rule strength of 1 − 1/e (≈ 0.63).
RULE_SCALE = 4.0


class HistoryModel(Protocol):
    """What the ranking needs of a model trained on past dispatches (adapters/nlp)."""

    @property
    def orders(self) -> int: ...  # past orders it was trained on

    def unit_scores(self, content: str, category: str, region: str) -> dict[str, float]:
        """p(unit) for each unit it knows (summing to 1)."""
        ...

    def returned_similar(self, content: str, category: str, region: str) -> dict[str, int]:
        """How many past orders similar to this one each unit returned (退单)."""
        ...


@dataclass(frozen=True)
class Suggestion:
    dept: str
    score: float
    reason: str
    assist: tuple[str, ...] = ()
    item: str | None = None  # the catalogue item code matched, if any

    def as_dict(self) -> dict[str, Any]:
        return {"dept": self.dept, "score": self.score, "reason": self.reason,
                "assist": list(self.assist), "item": self.item}


@dataclass
class _Candidate:
    dept: str
    rule: RuleHit | None = None
    aside: bool = False  # the rule matched only the aside
    p: float = 0.0
    returned: int = 0
    parts: list[str] = field(default_factory=list)


def rule_strength(hit: RuleHit | None) -> float:
    return 0.0 if hit is None else 1.0 - math.exp(-hit.weight / RULE_SCALE)


def main_and_aside(content: str) -> tuple[str, str]:
    """The request's main matter and what follows the first aside marker ("" if none)."""
    found = [i for i in (content.find(m) for m in ASIDE_MARKERS) if i > 0]
    if not found:
        return content, ""
    cut = min(found)
    return content[:cut], content[cut:]


def suggest(*, content: str, category: str, region: str, items: Iterable[CatalogueItem],
            catalogue_version: int | None, model: HistoryModel | None,
            top: int = TOP, units: Collection[str] | None = None) -> list[Suggestion]:
    """The best `top` units for the request, best first (fewer when fewer units have any
    evidence; none when neither the catalogue nor the model says anything). `units`: the
    units that exist now (a model trained before a unit left the registry may know it)."""
    items = list(items)
    main, aside = main_and_aside(content)
    candidates: dict[str, _Candidate] = {}
    for dept, hit in match(items, main, region).items():
        candidates[dept] = _Candidate(dept, rule=hit)
    if aside:
        for dept, hit in match(items, aside, region).items():
            candidates.setdefault(dept, _Candidate(dept, rule=hit, aside=True))
    if model is not None:
        scores = model.unit_scores(main, category, region)
        if aside:
            whole = model.unit_scores(content, category, region)
            scores = {dept: (1 - ASIDE_WEIGHT) * p + ASIDE_WEIGHT * whole.get(dept, 0.0)
                      for dept, p in scores.items()}
        for dept, p in scores.items():
            candidates.setdefault(dept, _Candidate(dept)).p = p
        for dept, count in model.returned_similar(content, category, region).items():
            if dept in candidates:
                candidates[dept].returned = count
    weight = MODEL_WEIGHT if model is not None else 0.0
    ranked: list[tuple[float, str, _Candidate]] = []
    for candidate in candidates.values():
        if units is not None and candidate.dept not in units:
            continue
        strength = rule_strength(candidate.rule) * (ASIDE_WEIGHT if candidate.aside else 1.0)
        score = weight * candidate.p + (1 - weight) * strength
        score -= RETURN_PENALTY * min(candidate.returned, MAX_RETURNS)
        ranked.append((score, candidate.dept, candidate))
    ranked.sort(key=lambda entry: (-entry[0], entry[1]))
    return [_suggestion(c, max(score, 0.0), catalogue_version, model)
            for score, _dept, c in ranked[:top] if score > 0 or c.rule is not None]


def _suggestion(candidate: _Candidate, score: float, version: int | None,
                model: HistoryModel | None) -> Suggestion:
    parts = []
    hit = candidate.rule
    if hit is not None:
        aside = "附带诉求；" if candidate.aside else ""
        parts.append(f"派单目录 v{version} {hit.item.code}「{hit.item.item}」"
                     f"（{aside}{hit.item.region}；匹配：{'、'.join(hit.matched)}）")
    if model is not None and candidate.p >= 0.01:
        parts.append(f"历史派单相似工单（{model.orders} 件训练）置信 {candidate.p:.2f}")
    if candidate.returned:
        parts.append(f"该单位退回过相似工单 {candidate.returned} 件（降权）")
    return Suggestion(candidate.dept, round(score, 3), "；".join(parts) or "—",
                      hit.item.assisting if hit else (), hit.item.code if hit else None)
