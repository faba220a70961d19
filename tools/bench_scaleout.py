"""Scale-out: N `rexian serve` workers on one PostgreSQL, a projection follower on LISTEN/NOTIFY.

`python -m tools.bench scaleout [--workers 1,2,4] [--seconds 8] [--clients 16] [--json]`

For each worker count N, on a fresh database of one ThrowawayPostgres cluster (fsync and
synchronous_commit off: CPU-bound, not disk-bound): N real `rexian serve` processes (gRPC,
ticker, group commit), one follower process (`python -m tools.bench_scaleout follow`: the
ordinary Follower + ProjectionRunner + PgListener on a read model that records, for every
event it applies, the position and the lag), and N driver processes, each running
clients/N threads against its own worker over gRPC: intake then dispatch, so every order is
2 commands. Every command's latency is recorded (p99 over all drivers).

Projection lag (`projection_lag_p99_ms`): per order, from the moment its client got the
intake's answer (the commit is done) to the follower having applied the order's first
event (0 when the follower was first). `event_to_projection_p99_ms`: applied minus the
event's own timestamp (taken before the commit, so it includes queueing for the commit). At
the end the bench waits for the follower to reach the log's head and compares the read
model with the log: `skipped` = log positions never applied, `duplicated` = positions
applied more than once (the read model has no unique key, so a second application shows).

Result: {"rows": [{"workers", "commands_per_s", "p99_ms", "p50_ms", "by_command" ({"intake",
"dispatch"} -> {"p50_ms", "p99_ms"}), "projection_lag_p99_ms",
"event_to_projection_p99_ms", "skipped", "duplicated", "events", "clients", "errors"}], "load_before", "load_after", "cpus",
"postgres": "throwaway cluster, fsync off"}. Run from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The drivers' token (agent + dispatcher), issued into each row's store, passed by env.
TOKEN_ENV = "REXIAN_TOKEN"
LAG = "bench_scaleout_applied"
DEPT = "区水务局"


# ----- the follower's read model ------------------------------------------------------
class AppliedLog:
    """Records each application of an event: position and lag (no unique key on purpose)."""

    name = "bench_scaleout"

    def create_tables(self, cur: Any) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {LAG} (position BIGINT NOT NULL, "
                    "lag_ms DOUBLE PRECISION NOT NULL, ticket_no TEXT, "
                    "applied_at DOUBLE PRECISION NOT NULL)")

    def drop_tables(self, cur: Any) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {LAG}")

    def apply(self, cur: Any, notification: Any, event: Any) -> None:
        now = time.time()
        lag = (now - event.timestamp.timestamp()) * 1000.0
        cur.execute(f"INSERT INTO {LAG} (position, lag_ms, ticket_no, applied_at) "
                    "VALUES (?, ?, ?, ?)",
                    (notification.id, lag, getattr(event, "ticket_no", None), now))


def follow(url: str) -> int:
    """The follower process: the real Follower on LISTEN/NOTIFY, until SIGTERM."""
    import signal

    from adapters.bootstrap import build_engine
    from adapters.pg_listen import PgListener
    from projections.follower import Follower
    from projections.runner import ProjectionRunner

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    engine = build_engine(url, deadlines=None)
    recorder: Any = engine.service.recorder
    listener = PgListener(engine.config, recorder.channel_name)
    follower = Follower([ProjectionRunner(engine.service, engine.db, AppliedLog())],
                        listener.wait, interval=1.0)
    print("follower ready", flush=True)
    try:
        follower.run(stop)
    finally:
        listener.close()
        engine.close()
    return 0


# ----- a driver process -----------------------------------------------------------------
def drive(address: str, seconds: float, threads: int) -> int:
    """`threads` clients on one worker for `seconds`; prints a JSON line of latencies."""
    import grpc

    from adapters.grpc.client import Calls
    from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as pb

    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=30)
    # The clients' stub and token metadata; gRPC errors are counted here, not mapped.
    calls = Calls(channel, os.environ[TOKEN_ENV], timeout=60.0)
    stub, auth = calls.tickets, calls.metadata
    # Per client: (intake seconds, dispatch seconds) of each order.
    latencies: list[list[tuple[float, float]]] = [[] for _ in range(threads)]
    acked: dict[str, float] = {}  # ticket number -> when its intake's answer arrived
    errors: list[str] = []
    print("driver ready", flush=True)
    go = sys.stdin.readline()  # the parent starts every driver at once
    assert go.strip() == "go"
    end = time.monotonic() + seconds

    def client(i: int) -> None:
        mine = latencies[i]
        n = 0
        while time.monotonic() < end:
            n += 1
            try:
                began = time.perf_counter()
                no = stub.Intake(pb.IntakeRequest(
                    channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
                    content=f"压测{i}-{n}", caller_name="张三", caller_phone="13800138000",
                    skip_advice=True),  # the store's throughput, not duplicate scoring
                    metadata=auth).ticket.ticket_no
                mid = time.perf_counter()
                acked[no] = time.time()
                stub.Dispatch(pb.DispatchRequest(ticket_no=no, dept=DEPT), metadata=auth)
                done = time.perf_counter()
            except grpc.RpcError as error:
                errors.append(f"{error.code()}: {error.details()}"[:200])
                continue
            mine.append((mid - began, done - mid))

    began = time.monotonic()
    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - began
    flat = [pair for per in latencies for pair in per]
    print("result " + json.dumps({"latencies": flat, "elapsed": elapsed, "errors": errors,
                                  "acked": acked}), flush=True)
    channel.close()
    return 0


# ----- the parent -----------------------------------------------------------------------
class Child:
    """A child process whose output goes to a log file (a pipe nobody reads would fill
    and stall it); `line(pattern)` waits for a matching line in that file."""

    def __init__(self, log: Path, *args: str, env: dict[str, str]) -> None:
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env,
                                         text=True, stdin=subprocess.PIPE, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def line(self, pattern: str, timeout: float = 90.0) -> str:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if regex.search(line):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{self.log.name}: no line matching {pattern!r}:\n{tail}")

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()


def _stop(children: Sequence[Child]) -> None:
    import signal

    for c in children:
        if c.proc.poll() is None:
            os.killpg(c.proc.pid, signal.SIGTERM)
    for c in children:
        try:
            c.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(c.proc.pid, signal.SIGKILL)
            c.proc.wait()


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def one_row(url: str, workers: int, seconds: float, clients: int,
            env: dict[str, str], logs: Path) -> dict[str, Any]:
    from adapters.bootstrap import build_engine

    # Schema and the vault's key first, outside the timing; the workers get the key by env.
    engine = build_engine(url, kek_file=env["REXIAN_KEK_FILE"])
    from domain.values import Actor

    issued = engine.access.issue(roles=["agent", "dispatcher"], staff_id="bench-driver",
                                 actor=Actor("admin", "bench"))
    env = {**env, TOKEN_ENV: issued["token"]}
    procs: list[Child] = []
    try:
        follower = Child(logs / f"w{workers}-follower.log", "-m", "tools.bench_scaleout",
                         "follow", url, env=env)
        procs.append(follower)
        serving = [Child(logs / f"w{workers}-serve{i}.log", "-m", "tools.cli", "--db", url,
                         "serve", "--grpc", "127.0.0.1:0", "--interval", "5", env=env)
                   for i in range(workers)]
        procs += serving
        addresses = []
        for child in serving:
            line = child.line(r"^gRPC: 127\.0\.0\.1:\d+")
            found = re.search(r"127\.0\.0\.1:\d+", line)
            assert found is not None
            addresses.append(found.group(0))
        follower.line(r"^follower ready")
        per = [clients // workers + (1 if i < clients % workers else 0) for i in range(workers)]
        drivers = [Child(logs / f"w{workers}-driver{i}.log", "-m", "tools.bench_scaleout",
                         "drive", address, str(seconds), str(n), env=env)
                   for i, (address, n) in enumerate(zip(addresses, per, strict=True))]
        procs += drivers
        for d in drivers:
            d.line(r"^driver ready")
        for d in drivers:
            d.send("go\n")
        outcome = [json.loads(d.line(r"^result ", seconds + 120).removeprefix("result "))
                   for d in drivers]
        pairs = [pair for o in outcome for pair in o["latencies"]]
        by_command = {"intake": [i for i, _ in pairs], "dispatch": [d for _, d in pairs]}
        latencies = by_command["intake"] + by_command["dispatch"]
        elapsed = max(o["elapsed"] for o in outcome)
        errors = Counter(e for o in outcome for e in o["errors"])
        acked = {k: v for o in outcome for k, v in o["acked"].items()}
        head = engine.service.recorder.max_notification_id() or 0
        deadline = time.monotonic() + 120
        while _applied_max(engine) < head and time.monotonic() < deadline:
            time.sleep(0.05)
        skipped, duplicated, lags, events = _compare(engine)
        after_ack = _after_ack(engine, acked)
        return {"workers": workers, "clients": clients,
                "commands_per_s": round(len(latencies) / elapsed, 1),
                "p99_ms": round(p99(latencies) * 1000, 1),
                "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
                "by_command": {name: {"p50_ms": round(statistics.median(xs) * 1000, 1),
                                      "p99_ms": round(p99(xs) * 1000, 1)}
                               for name, xs in by_command.items() if xs},
                "projection_lag_p99_ms": round(p99(after_ack), 1),
                "event_to_projection_p99_ms": round(p99(lags), 1),
                "skipped": skipped, "duplicated": duplicated, "events": events,
                "errors": dict(errors)}
    finally:
        _stop(procs)
        engine.close()


def _after_ack(engine: Any, acked: dict[str, float]) -> list[float]:
    """Per intake: ms from the client getting its answer (the commit is done) to the
    follower having applied the order's first event; 0 when it was there first."""
    with engine.db.transaction(immediate=False) as cur:
        rows = cur.execute(f"SELECT ticket_no, applied_at FROM {LAG} "
                           "WHERE ticket_no IS NOT NULL").fetchall()
    return [max(0.0, (float(at) - acked[no]) * 1000.0) for no, at in rows if no in acked]


def _applied_max(engine: Any) -> int:
    with engine.db.transaction(immediate=False) as cur:
        row = cur.execute(f"SELECT max(position) FROM {LAG}").fetchone()
    return int(row[0] or 0)


def _compare(engine: Any) -> tuple[int, int, list[float], int]:
    """(skipped, duplicated, lags, events in the log): the read model against the log."""
    log_ids: set[int] = set()
    start = 0
    while True:
        batch = engine.service.recorder.select_notifications(start=start, limit=5000,
                                                             inclusive_of_start=False)
        if not batch:
            break
        log_ids.update(n.id for n in batch)
        start = batch[-1].id
    with engine.db.transaction(immediate=False) as cur:
        rows = cur.execute(f"SELECT position, lag_ms FROM {LAG}").fetchall()
    seen: dict[int, int] = {}
    for position, _lag in rows:
        seen[int(position)] = seen.get(int(position), 0) + 1
    skipped = len(log_ids - set(seen))
    duplicated = sum(1 for n in seen.values() if n > 1)
    return skipped, duplicated, [float(r[1]) for r in rows], len(log_ids)


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench scaleout")
    parser.add_argument("--workers", default="1,2,4", help="Worker counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=8.0, help="Driving time per row")
    parser.add_argument("--clients", type=int, default=16,
                        help="Concurrent gRPC clients in total, shared out over the workers")
    parser.add_argument("--logs", default=None,
                        help="Keep the processes' output in this directory")
    args = parser.parse_args(argv)
    try:
        counts = [int(x) for x in args.workers.split(",") if x.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        parser.error(f"--workers 须为逗号分隔的正整数 / must be positive whole numbers, "
                     f"comma-separated: {args.workers!r}")
    from tests.support.postgres import ThrowawayPostgres

    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rexian-bench-scaleout-") as tmp, \
            ThrowawayPostgres(dbname="bench_scaleout") as pg:
        logs = Path(args.logs) if args.logs else Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "REXIAN_KEK_FILE": str(Path(tmp) / "bench.kek"), "PYTHONUNBUFFERED": "1"}
        for i, n in enumerate(counts):  # a count may repeat (A/B runs): a database per row
            url = pg.create_database(f"scaleout_{i}_{n}")
            rows.append(one_row(url, n, args.seconds, max(args.clients, n), env, logs))
    return {"rows": rows, "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
            "postgres": "throwaway cluster, fsync and synchronous_commit off",
            "seconds_per_row": args.seconds}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "follow":
        sys.exit(follow(sys.argv[2]))
    if mode == "drive":
        sys.exit(drive(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
    raise SystemExit(f"unknown mode {mode}")
