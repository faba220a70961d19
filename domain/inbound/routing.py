"""Inbound routing rules: before the robot says a word, a 老年一键通 caller (the line, or a
registered number) or a VIP goes straight to a person; after a policy question, a domain
another line serves is transferred there internally. Rules are data (config/inbound.toml)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from domain.errors import InvalidInput, shown
from domain.settings_file import read_toml
from domain.values import CATEGORIES

RULES_FILE: Final = Path(__file__).resolve().parents[2] / "config" / "inbound.toml"
ELDERLY: Final = "老年一键通"
VIP: Final = "重点来电人"
PRIORITY_ELDERLY: Final = 0  # the agent queue's priority (0 first)
PRIORITY_VIP: Final = 1
PRIORITY_NORMAL: Final = 5


@dataclass(frozen=True)
class Line:
    number: str
    name: str
    domains: tuple[str, ...] = ()  # empty: every domain
    elderly: bool = False

    def serves(self, domain: str) -> bool:
        return not self.domains or domain in self.domains


@dataclass(frozen=True)
class Route:
    """Straight to a person, why, and with what priority in the agents' queue."""
    reason: str
    priority: int


@dataclass(frozen=True)
class InboundRules:
    lines: tuple[Line, ...]
    elderly_callers: frozenset[str] = frozenset()
    vip_callers: frozenset[str] = frozenset()
    max_unrecognised: int = 2
    direct_register: tuple[str, ...] = ()

    def line(self, number: str) -> Line:
        for line in self.lines:
            if line.number == number:
                return line
        raise InvalidInput("line", f"未配置的来电线路 {shown(number, 20)}",
                           f"unknown inbound line {shown(number, 20)}")

    def first_route(self, caller: str, line: Line) -> Route | None:
        """A person answers at once (None: the robot answers)."""
        digits = "".join(ch for ch in caller if ch.isdigit())
        if line.elderly or digits in self.elderly_callers:
            return Route(ELDERLY, PRIORITY_ELDERLY)
        if digits in self.vip_callers:
            return Route(VIP, PRIORITY_VIP)
        return None

    def line_serving(self, domain: str, dialled: Line) -> Line | None:
        """The line to transfer a `domain` question to, or None when `dialled` answers it."""
        if dialled.serves(domain):
            return None
        for line in self.lines:
            if line.domains and domain in line.domains:
                return line
        return next((line for line in self.lines if not line.domains and not line.elderly),
                    None)

    @classmethod
    def from_data(cls, data: dict[str, Any], source: str = "inbound rules") -> InboundRules:
        def bad(zh: str, en: str) -> InvalidInput:
            return InvalidInput("inbound", f"呼入规则 {shown(source, 80)}：{zh}",
                                f"inbound rules {shown(source, 80)}: {en}")

        lines = []
        for entry in data.get("line", []):
            if not isinstance(entry, dict) or not str(entry.get("number", "")).isdigit():
                raise bad("每条线路须有数字号码 number", "each [[line]] needs a digit number")
            domains = entry.get("domains", [])
            if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
                raise bad(f"线路 {entry['number']} 的 domains 应为字符串列表",
                          f"line {entry['number']}: domains must be a list of strings")
            lines.append(Line(str(entry["number"]), str(entry.get("name", entry["number"])),
                              tuple(domains), bool(entry.get("elderly", False))))
        if not lines:
            raise bad("至少配置一条线路 [[line]]", "configure at least one [[line]]")
        callers = data.get("callers", {})
        lists = {k: callers.get(k, []) for k in ("elderly", "vip")}
        if not all(isinstance(v, list) and all(isinstance(n, str) for n in v)
                   for v in lists.values()):
            raise bad("[callers] 的 elderly / vip 应为号码列表",
                      "[callers] elderly / vip must be lists of numbers")
        direct = data.get("direct_register", [])
        if not isinstance(direct, list) or any(c not in CATEGORIES for c in direct):
            raise bad(f"direct_register 只能含 {'、'.join(CATEGORIES)}",
                      f"direct_register may hold only {', '.join(CATEGORIES)}")
        limit = data.get("max_unrecognised", 2)
        if not isinstance(limit, int) or not 1 <= limit <= 5:
            raise bad("max_unrecognised 应为 1–5", "max_unrecognised must be 1-5")
        return cls(tuple(lines), frozenset(lists["elderly"]), frozenset(lists["vip"]),
                   limit, tuple(direct))

    @classmethod
    def load(cls, path: str | Path | None = None) -> InboundRules:
        file = Path(path or os.environ.get("REXIAN_INBOUND_FILE") or RULES_FILE)
        data = read_toml(file, lambda zh, en: InvalidInput("inbound", f"呼入规则：{zh}",
                                                           f"inbound rules: {en}"))
        return cls.from_data(data, str(file))
