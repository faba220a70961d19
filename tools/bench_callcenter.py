"""Call-centre benchmark: N concurrent robot callbacks against N simulated citizens.

``python -m tools.bench callcenter --calls 40 --json``

N orders are resolved on a throwaway SQLite store; at the callback instant one dial pass
places the N calls over real WebRTC on loopback through the dialler's admission control
(``adapters.telephony.admission``): as many at once as the media + ASR path carries, the
rest waiting in the callback queue; calls that failed because of load are redialled
without spending an attempt. ``--no-admission`` places all N at once with no redials (the
behaviour before issue 17, which collapses at 40 calls on 2 cores). Each simulated citizen answers with
one of the committed answer fixtures (满意, 非常满意, 基本满意, 不满意, 不太满意, 转人工, 人工服务;
the same WAV again if the robot re-asks). The simulated media gateway runs in a child process
by default (it is another system in production); ASR runs on the robot's bounded worker
pool (default: one single-threaded whisper worker per core).

Reports: completed (orders whose callback ended with a recorded result or a hand-off),
correct (the recorded outcome is the fixture's intent), recorded_twice (orders with more
than one result or hand-off recorded; must be 0), admitted concurrency (most calls at once,
the limit's final and highest value, its cuts), queue wait p50/p95 (start of the pass to
the dial of the deciding call), overload redials, dangerous_errors (a 不满意 answer recorded as
满意/基本满意), answer-to-result latency p50/p95 (end of the citizen's answer, as the robot's
VAD detected it, to the result being recorded), CPU seconds (this process and the gateway
process), wall seconds and the ASR queue figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.bootstrap import build_engine
from adapters.telephony.admission import Admission, AdmissionSettings
from adapters.telephony.asr import AsrPool
from adapters.telephony.dialler import JobOutcome, dial_due_async
from adapters.telephony.robot import CallbackRobot
from domain.service import SHANGHAI
from domain.values import Actor
from projections.callback_queue import pending_jobs
from tools.sim_citizen import Citizen, SimulatedGateway
from tools.sim_clock import SimClock

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT / "tests" / "fixtures" / "audio"
ANSWERS = (  # the answer fixtures, cycled over the calls"satisfied_1", "dissatisfied_1", "basically_satisfied_1", "transfer_1",
           "very_satisfied_1", "not_very_satisfied_1", "satisfied_2", "dissatisfied_2",
           "basically_satisfied_2", "human_service_1", "satisfied_3", "not_very_satisfied_2",
           "dissatisfied_3", "transfer_2", "very_satisfied_2", "basically_satisfied_3",
           "not_very_satisfied_3", "human_service_2")
DEPT = "区城管局"


def _expected() -> dict[str, str]:
    manifest = json.loads((AUDIO / "manifest.json").read_text(encoding="utf-8"))
    return {Path(f["file"]).stem: f["intent"] for f in manifest["fixtures"]}


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _start_gateway_process(citizens: dict[str, list[str]], port: int) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "tools.sim_citizen", "--port", str(port)]
    for number, files in citizens.items():
        args += ["--citizen", f"{number}={','.join(files)}"]
    return launch_gateway(args, port)


def launch_gateway(args: list[str], port: int, wait_s: float = 30.0) -> subprocess.Popen[bytes]:
    """Start a simulated gateway program and wait until it answers /health on `port`."""
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the simulated gateway exited at start")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the simulated gateway did not start")


def stop_gateway(proc: subprocess.Popen[bytes], wait_s: float = 15.0) -> float:
    """SIGTERM the gateway program, wait for it (kill it after `wait_s`); its CPU seconds."""
    children0 = _cpu_children()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return _cpu_children() - children0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _correct(outcome: JobOutcome, expected: str, view: dict[str, Any]) -> bool:
    if expected == "转人工":
        return outcome.handoff and view["state"] == "已办结" and bool(view["handoffs"])
    if expected == "不满意":
        return view["state"] == "办理中" and view["reopen_count"] == 1
    return view["state"] == "已归档" and (view["callback"] or {}).get("result") == expected


RESULT_EVENTS = ("CallbackArchived", "Reopened", "HumanHandoffRequested")


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))], 3)


async def _bench(calls: int, workers: int | None, threads: int, in_process: bool,
                 db: Path, admission: bool = True) -> dict[str, Any]:
    expected_by_fixture = _expected()
    clock = SimClock(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    engine = build_engine(str(db), clock=clock)
    s = engine.service
    agent, unit = Actor("agent", "bench"), Actor("department", DEPT)
    plan: dict[str, tuple[str, str]] = {}  # ticket -> (phone, fixture)
    for i in range(calls):
        phone = f"1380013{i:04d}"
        ticket = s.intake(channel="电话", category="投诉", urgency="一般", region="甬江区",
                          content="噪音扰民", caller_name="市民", caller_phone=phone,
                          actor=agent)
        s.dispatch(ticket, dept=DEPT, assist=[], actor=agent)
        s.sign(ticket, dept=DEPT, actor=unit)
        s.resolve(ticket, dept=DEPT, reply="已处理", actor=unit)
        plan[ticket] = (phone, ANSWERS[i % len(ANSWERS)])
    engine.catch_up()
    with engine.db.transaction(immediate=False) as cur:
        clock.now = max(job.due_at for job in pending_jobs(cur))
    citizens = {phone: [str(AUDIO / f"{fx}.wav")] * 2 for phone, fx in plan.values()}

    proc: subprocess.Popen[bytes] | None = None
    gateway: SimulatedGateway | None = None
    if in_process:
        gateway = SimulatedGateway({n: Citizen(answers=tuple(f)) for n, f in citizens.items()})
        url = await gateway.start()
    else:
        port = free_port()
        proc = _start_gateway_process(citizens, port)
        url = f"http://127.0.0.1:{port}"
    asr = AsrPool(workers=workers, n_threads=threads)
    robot = CallbackRobot(url, asr)
    try:
        await asr.warm_up()
        if admission:
            gate = Admission(AdmissionSettings(maximum=max(calls, 1)), asr=asr)
        else:  # everything at once, no redials: the behaviour before issue 17
            gate = Admission(AdmissionSettings(initial=calls, minimum=calls, maximum=calls))
        cpu0, wall0 = _cpu_self(), time.perf_counter()
        attempts = await dial_due_async(engine, robot, limit=calls, admission=gate,
                                        max_redials=3 if admission else 0)
        wall = time.perf_counter() - wall0
        cpu = _cpu_self() - cpu0
    finally:
        await robot.close()
        if gateway is not None:
            await gateway.stop()
        asr_stats = asr.stats()
        asr.close()
    gateway_cpu = stop_gateway(proc) if proc is not None else None

    deciding: dict[str, JobOutcome] = {}
    for attempt in attempts:  # every call made, in completion order; an order's last decides
        deciding[attempt.ticket_no] = attempt
    completed = correct = dangerous = twice = 0
    latencies: list[float] = []
    waits: list[float] = []
    failures: list[dict[str, Any]] = []
    for ticket, (_phone, fixture) in plan.items():
        expected = expected_by_fixture[fixture]
        view = s.show(ticket)
        recorded = [e for e in s.history(ticket)["events"] if e["type"] in RESULT_EVENTS]
        twice += len(recorded) > 1
        outcome = deciding.get(ticket)
        if outcome is None:
            failures.append({"ticket": ticket, "fixture": fixture, "expected": expected,
                             "outcome": "not dialled"})
            continue
        if outcome.queued_s is not None:
            waits.append(outcome.queued_s)
        if outcome.result is not None or outcome.handoff:
            completed += 1
            if outcome.latency_s is not None:
                latencies.append(outcome.latency_s)
        if _correct(outcome, expected, view):
            correct += 1
        else:
            failures.append({"ticket": ticket, "fixture": fixture,
                             "expected": expected, "intent": outcome.intent,
                             "transcript": outcome.transcript, "outcome": outcome.outcome})
        if expected == "不满意" and outcome.result in ("满意", "基本满意"):
            dangerous += 1
    engine.close()
    latencies.sort()

    def pct(p: float) -> float | None:
        return _pct(latencies, p)

    return {
        "calls": calls,
        "dialled": len(attempts),
        "completed": completed,
        "correct": correct,
        "dangerous_errors": dangerous,
        "recorded_twice": twice,
        "admission": admission,
        "admitted_concurrency_max": gate.peak,
        "admission_limit_final": gate.admitted,
        "admission_limit_max": max([gate.settings.initial, *(n for _, n in gate.history)]),
        "admission_cuts": gate.cuts,
        "overload_redials": sum(a.outcome == "overloaded" for a in attempts),
        "queue_wait_p50_s": _pct(waits, 0.5),
        "queue_wait_p95_s": _pct(waits, 0.95),
        "latency_p50_s": pct(0.5),
        "latency_p95_s": pct(0.95),
        "latency_max_s": round(latencies[-1], 3) if latencies else None,
        "latency_mean_s": round(statistics.fmean(latencies), 3) if latencies else None,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu + (gateway_cpu or 0.0), 3),
        "robot_cpu_s": round(cpu, 3),
        "gateway_cpu_s": round(gateway_cpu, 3) if gateway_cpu is not None else None,
        "gateway": "in-process" if in_process else "child process",
        "asr_workers": asr.workers,
        "asr_threads": threads,
        "asr_jobs": asr_stats.jobs,
        "asr_busy_s": round(asr_stats.busy_s, 3),
        "asr_queue_max": asr_stats.queued_max,
        "cores": os.cpu_count(),
        "failures": failures,
    }


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench callcenter")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--asr-workers", type=int, default=None,
                        help="ASR worker threads (default: one per core, at most 4)")
    parser.add_argument("--asr-threads", type=int, default=1,
                        help="whisper threads per worker")
    parser.add_argument("--in-process", action="store_true",
                        help="run the simulated gateway in this process")
    parser.add_argument("--no-admission", action="store_true",
                        help="place every call at once, no redials (before issue 17)")
    args = parser.parse_args(argv)
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    with tempfile.TemporaryDirectory(prefix="rexian-bench-") as tmp:
        return asyncio.run(_bench(args.calls, args.asr_workers, args.asr_threads,
                                  args.in_process, Path(tmp) / "rexian.db",
                                  admission=not args.no_admission))
