"""A running web console on a real engine (tests of adapters/http): a few orders of two
units and a token per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.http.server import HttpServer
from domain.departments import DEFAULT_REGISTRY
from domain.values import Actor

ISSUER = Actor("admin", "console-tests")
AGENT = Actor("agent", "a-001")
DISPATCHER = Actor("dispatcher", "d-001")
UNITS = ("区城管局", "区水务局")
# A unit name long enough to test the layout with (the sample registry's are short).
LONG_UNIT = "甬江区住房和城乡建设局物业管理科（城市更新与老旧小区改造工作专班）东湖街道联络组"


@dataclass
class Console:
    engine: Engine
    server: HttpServer
    tokens: dict[str, str]
    orders: dict[str, str] = field(default_factory=dict)  # unit -> one of its orders

    @property
    def url(self) -> str:
        return self.server.url

    def auth(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[who]}"}

    def intake(self, content: str = "路灯不亮，晚上出行不便") -> str:
        return self.engine.service.intake(
            channel="电话", category="投诉", urgency="一般", region="甬江区", content=content,
            caller_name="张三", caller_phone="13812345678", actor=AGENT)


def issue_tokens(engine: Engine) -> dict[str, str]:
    tokens = {role: engine.access.issue(roles=[role], staff_id=f"{role}-1", actor=ISSUER)["token"]
              for role in ("dispatcher", "supervisor", "auditor", "robot")}
    for unit in UNITS:
        tokens[unit] = engine.access.issue(roles=["department"], staff_id=unit, dept=unit,
                                           actor=ISSUER)["token"]
    return tokens


@pytest.fixture
def console(tmp_path: Path, clock: Callable[[], datetime]) -> Iterator[Console]:
    registry = tmp_path / "departments.toml"
    registry.write_text(DEFAULT_REGISTRY.read_text(encoding="utf-8") + (
        f'\n[[department]]\nname = "{LONG_UNIT}"\nregion = "甬江区"\nsupervisor = "区政府"\n'
        'duty_phone = "0574-87000999"\n'), encoding="utf-8")
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock,
                          departments_file=str(registry))
    running = Console(engine, HttpServer(engine, "127.0.0.1:0").start(), issue_tokens(engine))
    for unit in UNITS:
        no = running.intake(f"{unit}辖区内的问题")
        engine.service.dispatch(no, dept=unit, assist=[], actor=DISPATCHER)
        running.orders[unit] = no
    long_no = running.intake("长单位名称的工单")
    engine.service.dispatch(long_no, dept=LONG_UNIT, assist=list(UNITS), actor=DISPATCHER)
    running.orders[LONG_UNIT] = long_no
    running.intake("尚未派单的诉求")
    try:
        yield running
    finally:
        running.server.stop()
        engine.close()


def artefacts() -> Path:
    """Screenshots of the browser tests (git-ignored under var/)."""
    path = Path(__file__).resolve().parents[2] / "var" / "test-artefacts"
    path.mkdir(parents=True, exist_ok=True)
    return path
