"""Concurrent clients: our engine (group commit) against bare eventsourcing, same disk, same run.

`python -m tools.bench concurrency [--clients 1,4,16,64] [--lifecycles N] [--tmpdir DIR]
[--fsync-delay-ms MS] [--json]`

For each client count C, C threads share one engine (as gRPC handlers, the ticker and the
dialler do) on a fresh SQLite file and run N lifecycles between them (intake, dispatch,
sign, resolve, callback: 5 commands each); every command's latency is recorded. The
baseline then stores exactly the events our engine stored, with C threads on a bare
eventsourcing application (tools/bench_lifecycle.BaselineApp: no rules, no sealing, one
transaction per command, the library's own SQLite settings) in a fresh file in the same
directory. The disk's fsync rate is measured in that directory in the same run: on disk
every baseline command waits for one fsync, while group commit pays one per batch.

With ``--fsync-delay-ms MS`` the benchmark re-runs itself on an emulated slower disk: every
fsync of the process (engine and baseline alike) first waits MS milliseconds
(tools/slow_disk.py, an LD_PRELOAD shim), as on a disk whose flush costs that much; the
probe's ``fsync_per_s`` is then the emulated rate, and ``fsync_delay_ms`` says so.

Result: {"rows": [{"clients", "engine_commands_per_s", "baseline_commands_per_s", "ratio",
"p99_ms", "baseline_p99_ms", "commands_per_transaction", "split_batches",
"same_payloads"}],
"fsync_per_s", "fsync_delay_ms" (null: the real disk), "tmpdir", "load_before",
"load_after", "cpus"}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from adapters.bootstrap import build_engine
from tools.bench_lifecycle import (
    BaselineApp,
    Payload,
    bare_env,
    our_lifecycle,
    same_payloads,
    stored_payloads,
)
from tools.slow_disk import emulated_delay_ms, rerun

DEFAULT_CLIENTS = (1, 4, 16, 64)


def fsync_rate(directory: Path, seconds: float = 1.0) -> float:
    """Small write + fsync, as a commit does, for `seconds`: how many per second."""
    path = directory / "fsync-probe"
    count, began = 0, time.perf_counter()
    with open(path, "wb") as probe:
        while time.perf_counter() - began < seconds:
            probe.write(b"x" * 512)
            probe.flush()
            os.fsync(probe.fileno())
            count += 1
    elapsed = time.perf_counter() - began
    path.unlink()
    return count / elapsed


def _p99(samples: Sequence[float]) -> float:
    if len(samples) < 2:
        return samples[0] * 1000 if samples else 0.0
    return statistics.quantiles(samples, n=100)[98] * 1000


def _timed(fn: Callable[[], Any], latencies: list[float]) -> Any:
    began = time.perf_counter()
    value = fn()
    latencies.append(time.perf_counter() - began)
    return value


def _in_threads(clients: int, work: Callable[[int], None]) -> float:
    """Run work(0..clients-1) in threads started together; wall seconds."""
    start = threading.Barrier(clients + 1)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        start.wait()
        try:
            work(index)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            errors.append(error)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - began


class _TimedService:
    """The service with every command call timed (what a client waits for)."""

    def __init__(self, service: Any, latencies: list[float]) -> None:
        self._service = service
        self._latencies = latencies

    def __getattr__(self, name: str) -> Any:
        command = getattr(self._service, name)
        return lambda *a, **k: _timed(lambda: command(*a, **k), self._latencies)


def row(clients: int, lifecycles: int, directory: Path) -> dict[str, Any]:
    share = [lifecycles // clients + (1 if i < lifecycles % clients else 0)
             for i in range(clients)]
    engine = build_engine(str(directory / f"engine-{clients}.db"))
    try:
        service = engine.service
        latencies: list[list[float]] = [[] for _ in range(clients)]
        tickets: list[list[str]] = [[] for _ in range(clients)]

        def ours(index: int) -> None:
            timed = _TimedService(service, latencies[index])
            for k in range(share[index]):
                tickets[index].append(our_lifecycle(timed, index * 100_000 + k))  # type: ignore[arg-type]

        seconds = _in_threads(clients, ours)
        commands = sum(len(x) for x in latencies)
        commits = service.group_commit
        per_transaction = commits.saves / commits.batches if commits.batches else 0.0
        payloads = [stored_payloads(service, t) for t in tickets]
    finally:
        engine.close()
    baseline = BaselineApp(env=bare_env(str(directory / f"baseline-{clients}.db")))
    try:
        base_latencies: list[list[float]] = [[] for _ in range(clients)]

        def bare(index: int) -> None:
            mine: list[list[Payload]] = payloads[index]
            for events in mine:
                for oid, kind, timestamp, fields in events:
                    _timed(lambda: baseline.record(oid, kind, timestamp, fields),  # noqa: B023
                           base_latencies[index])

        base_seconds = _in_threads(clients, bare)
        base_commands = sum(len(x) for x in base_latencies)
        same = all(same_payloads(baseline, p) for p in payloads)
    finally:
        baseline.close()
    engine_rate, base_rate = commands / seconds, base_commands / base_seconds
    return {"clients": clients, "engine_commands_per_s": round(engine_rate, 1),
            "baseline_commands_per_s": round(base_rate, 1),
            "ratio": round(engine_rate / base_rate, 2),
            "p99_ms": round(_p99([x for xs in latencies for x in xs]), 2),
            "baseline_p99_ms": round(_p99([x for xs in base_latencies for x in xs]), 2),
            "commands_per_transaction": round(per_transaction, 2),
            "split_batches": commits.split,
            "commands": commands, "same_payloads": same}


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench concurrency")
    parser.add_argument("--clients", default=",".join(map(str, DEFAULT_CLIENTS)))
    parser.add_argument("--lifecycles", type=int, default=128,
                        help="lifecycles (5 commands each) per row, shared by the clients")
    parser.add_argument("--tmpdir", default=None, help="where the stores go (default: "
                        "a temp dir under the repository's var/, on disk)")
    parser.add_argument("--fsync-delay-ms", type=float, default=None,
                        help="emulate a disk whose fsync costs this much more (re-runs the "
                        "benchmark with tools/native/slow_fsync.c preloaded)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.fsync_delay_ms is not None and emulated_delay_ms() is None:
        if not 0 < args.fsync_delay_ms <= 1000:
            parser.error("--fsync-delay-ms must be in (0, 1000]")
        return rerun("concurrency", [a for a in argv if a != "--json"], args.fsync_delay_ms)
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    base = Path(args.tmpdir) if args.tmpdir else Path(__file__).resolve().parent.parent / "var"
    base.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="rexian-bench-concurrency-", dir=base) as tmp:
        directory = Path(tmp)
        fsyncs = fsync_rate(directory)
        rows = [row(c, max(args.lifecycles, c), directory) for c in clients]
    return {"rows": rows, "fsync_per_s": round(fsyncs, 1),
            "fsync_delay_ms": emulated_delay_ms(), "tmpdir": str(base),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
