"""kill -9 of `rexian serve` in the middle of a campaign (issue 10 item 7), for real: a serve
subprocess dials simulated citizens over loopback WebRTC, is killed with SIGKILL while its
calls ring, and a second serve on the same store finishes the campaign.

Checked on the store's events and on what the gateway saw: no contact is called twice for
the same attempt, every attempt ends in exactly one outcome (the killed ones as 未接通 /
"interrupted" once their claim ran out), retries keep their recorded instants and the
shared budget.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import build_engine
from adapters.campaigns import desk
from domain.campaign import states
from domain.campaign.service import INTERRUPTED
from tests.support.procs import PythonProcess
from tests.test_cli import rexian
from tools.sim_citizen import Citizen, SimulatedGateway

REPO = Path(__file__).resolve().parent.parent
LEASE_S = 20  # longer than a call here: ring, opening, message, admission wait
# Everyone rings long enough for the kill to find calls in progress.
RING_S = 2.5
CITIZENS = {
    "13800000001": Citizen(ring_s=RING_S),  # answers and hears the message
    "13800000002": Citizen(ring_s=RING_S),
    "13800000003": Citizen(ring_s=RING_S),
    "13800000004": Citizen("busy", ring_s=RING_S, sip_status=486),  # 忙: retried after 1 min
    "13800000005": Citizen("no_answer", ring_s=RING_S, sip_status=404),  # 空号 by its cause
    "13800000006": Citizen("no_answer", ring_s=RING_S, sip_status=603),  # 拒接: not retried
}
RETRY_MIN = {"未接通": 1, "忙": 1, "关机": 1}
MESSAGE = "您好，这里是12345热线。感谢接听，再见。"


class GatewayThread:
    """The simulated gateway on its own event loop, so the test can read its records."""

    def __init__(self, citizens: dict[str, Citizen] | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gateway = SimulatedGateway(dict(CITIZENS if citizens is None else citizens))
        self.url = self._run(self.gateway.start())

    def _run(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(30)

    def calls(self) -> dict[str, str]:
        """call id -> number, for every call the gateway was offered."""
        return {r.call_id: r.number for r in list(self.gateway.records.values())}

    def stop(self) -> None:
        self._run(self.gateway.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def gateway() -> Iterator[GatewayThread]:
    running = GatewayThread()
    yield running
    running.stop()


def cli_ok(db: Path, *args: str) -> Any:
    done = rexian(str(db), *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def serve(db: Path, url: str) -> PythonProcess:
    proc = PythonProcess("tools.cli", "--db", str(db), "serve", "--grpc", "127.0.0.1:0",
                         "--interval", "0.3", "--gateway", url, "--call-lease", str(LEASE_S),
                         cwd=str(REPO), env={"PYTHONPATH": str(REPO)})
    proc.wait_for_line(r"^Ctrl-C to stop", timeout=60)
    return proc


def contact_events(db: Path, ref: str, count: int) -> dict[str, list[Any]]:
    engine = build_engine(str(db))
    try:
        return {f"{ref}-{n:06d}": list(engine.service.events.get(
            desk(engine).service.contact(f"{ref}-{n:06d}").id)) for n in range(1, count + 1)}
    finally:
        engine.close()


def test_serve_killed_mid_campaign_resumes_without_double_or_lost_calls(
        tmp_path: Path, gateway: GatewayThread) -> None:
    db = tmp_path / "campaign.db"
    ref = cli_ok(db, "campaign", "create", "--kind", "notification", "--name", "断电演练",
                 "--message", MESSAGE, "--window", "00:00-24:00", "--allow-rest-days",
                 "--lines", "3", "--per-minute", "60", "--max-retries", "1",
                 "--no-answer-retry-min", "1", "--busy-retry-min", "1",
                 "--off-retry-min", "1")["campaign_id"]
    names = "\n".join(f"市民{n},{number}" for n, number in enumerate(CITIZENS, 1))
    (tmp_path / "名单.csv").write_text(f"姓名,电话\n{names}\n", encoding="utf-8")
    assert cli_ok(db, "campaign", "import", ref, str(tmp_path / "名单.csv"))["imported"] == 6
    assert cli_ok(db, "campaign", "start", ref)["state"] == states.RUNNING

    # 1. The first serve dials three lines' worth and is killed while they ring.
    first = serve(db, gateway.url)
    try:
        first.wait_for_line(r"^campaigns: .*'dialled': 3", timeout=30)
        # The gateway took the first call, the others wait for their admission slot or ring.
        deadline = 15.0
        while not gateway.calls() and deadline > 0:
            threading.Event().wait(0.1)
            deadline -= 0.1
        os.killpg(first.pid, signal.SIGKILL)
        assert first.proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if first.proc.poll() is None:
            first.kill()
    killed = cli_ok(db, "campaign", "status", ref)
    assert killed["in_progress"] == 3 and killed["completed"] == 0, (killed, first.output())
    offered_before_restart = set(gateway.calls())

    # 2. A second serve resolves the dead claims once they expire and finishes the campaign.
    second = serve(db, gateway.url)
    try:
        # The three dead claims expire when their own leases do: one tick or several.
        resolved, deadline = 0, time.monotonic() + LEASE_S + 30
        while resolved < 3:
            line = second.wait_for_line(r"^campaigns: .*'interrupted': [1-9]",
                                        timeout=max(0.1, deadline - time.monotonic()))
            resolved += int(re.search(r"'interrupted': (\d+)", line).group(1))  # type: ignore[union-attr]
        assert resolved == 3
        second.wait_for_line(r"^campaigns: .*'completed': 1", timeout=180)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        assert second.proc.wait(timeout=60) == 0, second.output()
    final = cli_ok(db, "campaign", "status", ref)
    assert final["state"] == states.COMPLETED and final["completed"] == 6
    assert final["flags"] == {states.VACANT: 1}

    offered = gateway.calls()
    streams = contact_events(db, ref, len(CITIZENS))
    numbers = {f"{ref}-{n:06d}": number for n, number in enumerate(CITIZENS, 1)}
    interrupted = 0
    for contact, events in streams.items():
        kinds = [type(e).__name__ for e in events]
        dials = [e for e in events if type(e).__name__ == "Dialled"]
        ended = {e.call_id: e for e in events if type(e).__name__ == "CallEnded"}
        # Attempts 1, 2, ... each dialled once, each ended exactly once: none lost.
        assert [d.attempt for d in dials] == list(range(1, len(dials) + 1)), kinds
        assert len(ended) == len(dials) == kinds.count("CallEnded"), kinds
        assert len(dials) <= 2  # one call plus the shared budget of one retry
        # What the gateway was offered for this number: only recorded dials, each once.
        to_number = [c for c, number in offered.items() if number == numbers[contact]]
        assert set(to_number) <= {d.call_id for d in dials}
        assert len(to_number) == len(gateway.gateway.calls_to(numbers[contact])) <= len(dials)
        for dial in dials:
            assert dial.call_id in ended
            if ended[dial.call_id].detail.startswith(INTERRUPTED):
                interrupted += 1
                assert ended[dial.call_id].outcome == states.NO_ANSWER
                assert ended[dial.call_id].timestamp >= dial.lease_until
            else:  # every call the second serve placed reached the gateway once
                assert dial.call_id in offered
        # Retries keep their recorded instant: due exactly the rule's minutes after the
        # outcome, and not dialled a moment before it.
        for n, event in enumerate(events):
            if type(event).__name__ == "RetryScheduled":
                outcome = events[n - 1]
                assert event.retry_after == outcome.timestamp + timedelta(
                    minutes=RETRY_MIN[outcome.outcome])
                later = [e for e in events[n:] if type(e).__name__ == "Dialled"]
                assert later and later[0].timestamp >= event.retry_after
        assert kinds[-1] == "Finished"
    assert interrupted == 3
    # Calls the killed serve had offered were never offered again under the same id.
    assert offered_before_restart <= set(offered)
    assert len(offered) == len(set(offered))
    by_outcome: dict[str, int] = defaultdict(int)
    for events in streams.values():
        for e in events:
            if type(e).__name__ == "CallEnded":
                by_outcome[e.outcome] += 1
    assert by_outcome[states.VACANT] == 1 and by_outcome[states.REJECTED] == 1
    assert by_outcome[states.BUSY] == 2  # called, busy, retried once (the shared budget)
    assert rexian(str(db), "verify").returncode == 0
