"""The rules of duplicate and mass-complaint detection (config/duplicates.toml), validated.

A candidate duplicate is an order of the same area (the intake `region`, e.g.
甬江区东湖街道) registered within `window_days` before, scoring at least `threshold`.
A mass complaint (群诉) is at least `min_citizens` distinct citizens with orders of one area
within `window_days` of each other, each scoring at least `threshold` against another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput, shown
from domain.settings_file import read_toml

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "duplicates.toml"


@dataclass(frozen=True)
class MassComplaintRules:
    min_citizens: int  # K: distinct citizens (and so at least K orders)
    window_days: int
    threshold: float
    # Who is told when no registry unit has the area as its own region (属地单位).
    fallback_unit: str


@dataclass(frozen=True)
class DuplicateSettings:
    window_days: int
    threshold: float
    max_candidates: int
    mass: MassComplaintRules


def _error(zh: str, en: str) -> InvalidInput:
    return InvalidInput("duplicates", f"并单与群诉配置错误：{zh}",
                        f"duplicate detection settings: {en}")


def _number(section: dict[str, Any], key: str, where: str, kind: type, low: float,
            high: float) -> Any:
    value = section.get(key)
    whole = kind is int and not isinstance(value, int)  # an int setting given as 1.5
    if isinstance(value, bool) or not isinstance(value, int | float) or whole or \
            not low <= value <= high:
        raise _error(f"[{where}] {key} 应为 {low} 到 {high} 之间的数（现为 {shown(value)}）",
                     f"[{where}] {key} must be a number from {low} to {high} "
                     f"(got {shown(value)})")
    return kind(value)


def _keys(section: Any, where: str, expected: set[str]) -> dict[str, Any]:
    if not isinstance(section, dict) or set(section) != expected:
        names = "、".join(sorted(expected))
        raise _error(f"[{where}] 应恰好包含：{names}",
                     f"[{where}] takes exactly: {', '.join(sorted(expected))}")
    return section


def parse_settings(data: dict[str, Any]) -> DuplicateSettings:
    if set(data) != {"duplicates", "mass_complaint"}:
        raise _error("应恰好有 [duplicates] 与 [mass_complaint] 两节",
                     "expected exactly the [duplicates] and [mass_complaint] sections")
    dup = _keys(data["duplicates"], "duplicates", {"window_days", "threshold", "max_candidates"})
    mass = _keys(data["mass_complaint"], "mass_complaint",
                 {"min_citizens", "window_days", "threshold", "fallback_unit"})
    unit = mass["fallback_unit"]
    if not isinstance(unit, str) or not unit.strip():
        raise _error("[mass_complaint] fallback_unit 应为单位名称",
                     "[mass_complaint] fallback_unit must name a unit")
    return DuplicateSettings(
        window_days=_number(dup, "window_days", "duplicates", int, 1, 365),
        threshold=_number(dup, "threshold", "duplicates", float, 0.01, 1.0),
        max_candidates=_number(dup, "max_candidates", "duplicates", int, 1, 50),
        mass=MassComplaintRules(
            min_citizens=_number(mass, "min_citizens", "mass_complaint", int, 2, 1000),
            window_days=_number(mass, "window_days", "mass_complaint", int, 1, 365),
            threshold=_number(mass, "threshold", "mass_complaint", float, 0.01, 1.0),
            fallback_unit=unit.strip()))


def load_settings(path: str | Path | None = None) -> DuplicateSettings:
    """The settings in `path` (default config/duplicates.toml)."""
    path = Path(path) if path else DEFAULT_PATH
    data = read_toml(path, _error)
    return parse_settings(data)
