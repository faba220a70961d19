"""`rexian serve --gateway` answers inbound calls (issue 16): callers ring in at the
simulated gateway, a real serve subprocess claims them, the inbound robot answers over
loopback WebRTC with whisper.cpp — a policy question with its citation, a 老年一键通
caller straight to a person — and a call is picked up once however often serve polls."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from adapters.bootstrap import build_engine
from adapters.inbound.desk import InboundDesk
from adapters.kb import kb_desk
from adapters.telephony.signalling import claim_incoming
from tests.support.procs import PythonProcess
from tests.test_campaign_kill import GatewayThread
from tests.test_inbound_call import AUDIO
from tests.test_kb import ADMIN, SAMPLE
from tests.test_telephony_calls import model_path  # noqa: F401  (the Whisper model)
from tools.sim_citizen import Citizen, SimulatedGateway

REPO = Path(__file__).resolve().parent.parent
CALLER, ELDER = "13812345678", "13905740001"
__all__ = ["model_path"]


@pytest.fixture
def gateway() -> Iterator[GatewayThread]:
    running = GatewayThread({})
    yield running
    running.stop()


def ring_in(gateway: GatewayThread, caller: str, line: str, citizen: Citizen) -> str:
    async def ring() -> str:
        return gateway.gateway.ring_in(caller, line, citizen)
    return gateway._run(ring())


def ended(gateway: GatewayThread, call_id: str) -> bool:
    record = gateway.gateway.records.get(call_id)
    return record is not None and record.hung_up_by is not None


def test_serve_answers_the_calls_waiting_at_the_gateway(
        tmp_path: Path, gateway: GatewayThread, model_path: Path) -> None:
    db = tmp_path / "inbound.db"
    engine = build_engine(str(db))
    try:
        kb_desk(engine).import_file(SAMPLE, actor=ADMIN)
    finally:
        engine.close()
    question = Citizen(answers=[str(AUDIO / "policy_yidi_beian.wav")])
    asked = ring_in(gateway, CALLER, "12345", question)
    elder = ring_in(gateway, ELDER, "96345", Citizen(answers=[]))
    proc = PythonProcess("tools.cli", "--db", str(db), "serve", "--grpc", "127.0.0.1:0",
                         "--interval", "0.3", "--gateway", gateway.url,
                         cwd=str(REPO), env={"PYTHONPATH": str(REPO)})
    try:
        proc.wait_for_line(r"^Inbound robot: answering the calls waiting at", timeout=60)
        deadline = time.monotonic() + 180
        while not (ended(gateway, asked) and ended(gateway, elder)):
            assert time.monotonic() < deadline, proc.output()
            threading.Event().wait(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.proc.wait(timeout=60)
    assert "stopped cleanly" in proc.output()
    # Each waiting call was picked up exactly once, and nothing is left waiting.
    assert sorted(gateway.calls()) == sorted([asked, elder]) and not gateway.gateway.waiting
    engine = build_engine(str(db))
    try:
        desk = InboundDesk(engine)
        record = desk.record(asked)
        assert record.line == "12345"
        answered = [t for t in record.turns if t.get("citation")]
        assert answered and answered[0]["citation"] == "KB-YB-001 v1", record.turns
        elderly = desk.record(elder)
        assert elderly.outcome == "转人工" and not [t for t in elderly.turns if "heard" in t]
    finally:
        engine.close()


def test_a_waiting_call_is_claimed_once_and_a_gateway_without_lines_says_so() -> None:
    async def scenario() -> None:
        async with SimulatedGateway() as gateway, aiohttp.ClientSession() as session:
            first = gateway.ring_in(CALLER)
            second = gateway.ring_in(ELDER, "96345")
            claimed = await claim_incoming(session, gateway.url, 1)
            assert claimed is not None and [c.call_id for c in claimed] == [first]
            rest = await claim_incoming(session, gateway.url, 10)
            assert rest is not None and [(c.call_id, c.caller, c.line) for c in rest] == [
                (second, ELDER, "96345")]
            assert await claim_incoming(session, gateway.url, 10) == []
        # A gateway with outbound calls only.
        from aiohttp import web

        from adapters.telephony.signalling import gateway_app

        async def no_calls(_request: object) -> object:
            raise AssertionError("not called")

        runner = web.AppRunner(gateway_app(no_calls, no_calls))  # type: ignore[arg-type]
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with aiohttp.ClientSession() as session:
                assert await claim_incoming(session, f"http://127.0.0.1:{port}", 5) is None
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
