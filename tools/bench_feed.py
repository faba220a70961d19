"""Department feed latency and throughput over a real gRPC server.

`python -m tools.bench feed [--backend sqlite|postgres] [--rate 200] [--seconds 5] [--senders 16]
[--burst-orders 600] [--burst-threads 4] [--backlog-orders 0] [--json]`

LATENCY: a department (区水务局) subscribes to its feed; the centre dispatches pre-registered
orders to it over gRPC (TicketService.Dispatch) at a steady `rate` per second for
`seconds` seconds (open loop: each send is scheduled at t0 + i/rate and runs on one of
`senders` client threads, so a slow commit does not lower the offered rate). Latency =
time from the instant the Dispatch was due to the receipt of that order's Dispatched
event on the department's stream (one clock, one process; waiting for a free sender
counts, so there is no coordinated omission); it includes the command itself
(its SQLite commit is fsync-bound), reported separately as command_p50/p99_ms; the
feed's own share (receipt after the command's response, 0 when it arrived first) is
feed_lag_p50/p99_ms.
Reported: p50, p99, max (ms), offered and achieved rates, lost events.

THROUGHPUT:
* `catchup_events_per_s`: a fresh subscriber reads the unit's whole feed from position 0
  (every event of the two runs above, plus `backlog-orders` dispatched, signed and
  resolved orders, 3 feed events each): events/s one stream delivers.
* `live_events_per_s`: `burst-threads` clients dispatch `burst-orders` orders as fast as
  the engine accepts them while the subscriber is attached: events/s received end to end
  (bounded by the command rate; SQLite commits are fsync-bound).

The server, the subscriber and the dispatching clients share one process (and its GIL),
so the figures are conservative. The store is a temporary SQLite file (commits are
fsync-bound: the engine's command rate, not the feed, limits what SQLite sustains), or a
throwaway PostgreSQL cluster (tests/support/postgres.py, fsync off: CPU-bound figures).
Run from the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from adapters.bootstrap import Engine, build_engine
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2_grpc as dept_grpc
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2_grpc as ticket_grpc
from adapters.grpc.server import serve_grpc
from domain.values import Actor

DEPT = "区水务局"
AGENT = Actor("agent", "bench")
UNIT = Actor("department", DEPT)


def _intake(engine: Engine, count: int) -> list[str]:
    return [engine.service.intake(channel="电话", category="投诉", urgency="一般",
                                  region="甬江区", content=f"压测工单 {i}", caller_name="测试",
                                  caller_phone="13800138000", actor=AGENT)
            for i in range(count)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class _Subscriber:
    def __init__(self, channel: grpc.Channel, token: str, after: int) -> None:
        stub = dept_grpc.DepartmentFeedServiceStub(channel)
        self.call: Any = stub.Subscribe(
            dept_pb.SubscribeRequest(department=DEPT, after_position=after),
            metadata=(("authorization", f"Bearer {token}"),))
        self.received: dict[str, float] = {}
        self.count = 0
        self.last_position = after
        self.first_at: float | None = None
        self.last_at = 0.0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for response in self.call:
                now = time.perf_counter()
                event = response.event
                if self.first_at is None:
                    self.first_at = now
                self.last_at = now
                self.count += 1
                self.last_position = event.position
                if event.type == "Dispatched":
                    self.received.setdefault(event.ticket_no, now)
        except grpc.RpcError:
            pass

    def wait(self, predicate: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.005)
        return bool(predicate())

    def stop(self) -> None:
        self.call.cancel()
        self._thread.join(timeout=5)


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench feed")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite",
                        help="the store (postgres: a throwaway cluster, fsync off)")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--backlog-orders", type=int, default=0,
                        help="extra orders dispatched, signed and resolved before catch-up")
    parser.add_argument("--senders", type=int, default=16,
                        help="client threads the steady-rate dispatches are sent from")
    parser.add_argument("--burst-orders", type=int, default=600)
    parser.add_argument("--burst-threads", type=int, default=4)
    args = parser.parse_args(argv)
    total = int(args.rate * args.seconds)
    warmup = 20

    with tempfile.TemporaryDirectory(prefix="rexian-bench-feed-") as tmp, \
            contextlib.ExitStack() as stack:
        if args.backend == "postgres":
            from tests.support.postgres import ThrowawayPostgres

            pg = stack.enter_context(ThrowawayPostgres())
            engine = build_engine(pg.create_database("bench_feed"))
        else:
            engine = build_engine(str(Path(tmp) / "rexian.db"))
        orders = _intake(engine, warmup + total + args.burst_orders)
        from domain.values import Actor

        admin = Actor("admin", "bench")
        centre_token = engine.access.issue(roles=["dispatcher"], staff_id="bench-dispatcher",
                                           actor=admin)["token"]
        token = engine.access.issue(roles=["department"], staff_id=DEPT, dept=DEPT,
                                    actor=admin)["token"]
        server, port = serve_grpc(engine, "127.0.0.1:0")
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            grpc.channel_ready_future(channel).result(timeout=10)
            centre = (("authorization", f"Bearer {centre_token}"),)
            tickets = ticket_grpc.TicketServiceStub(channel)

            def dispatch(no: str) -> None:
                tickets.Dispatch(ticket_pb.DispatchRequest(ticket_no=no, dept=DEPT),
                                 metadata=centre)

            # ----- latency at a steady rate ----------------------------------------------
            sub = _Subscriber(channel, token, after=0)
            for no in orders[:warmup]:
                dispatch(no)
            sub.wait(lambda: len(sub.received) >= warmup, 10)
            timed = orders[warmup:warmup + total]
            scheduled: dict[str, float] = {}
            sent: dict[str, float] = {}
            done: dict[str, float] = {}

            def timed_dispatch(no: str) -> None:
                sent[no] = time.perf_counter()
                dispatch(no)
                done[no] = time.perf_counter()

            # Open loop: each send is scheduled at start + i/rate and runs on a pool, so a
            # slow commit delays neither the following sends nor the offered rate.
            start = time.perf_counter()
            with ThreadPoolExecutor(args.senders) as pool:
                for i, no in enumerate(timed):
                    scheduled[no] = start + i / args.rate
                    pause = scheduled[no] - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    pool.submit(timed_dispatch, no)
                sending = time.perf_counter() - start
            sub.wait(lambda: all(no in sub.received for no in timed), 10)
            # From the instant the dispatch was due (not when a sender thread got to it):
            # time spent waiting for a free sender counts (no coordinated omission).
            latencies = [(sub.received[no] - scheduled[no]) * 1000 for no in timed
                         if no in sub.received]
            commands = [(done[no] - scheduled[no]) * 1000 for no in timed if no in done]
            # The feed's own share: receipt after the command's response (0 when earlier).
            lags = [max(0.0, sub.received[no] - done[no]) * 1000 for no in timed
                    if no in done and no in sub.received]
            lost = total - len(latencies)

            # ----- live throughput: dispatch as fast as possible ---------------------------
            burst = orders[warmup + total:]
            before = sub.count
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.burst_threads) as pool:
                list(pool.map(dispatch, burst))
            sub.wait(lambda: sub.count - before >= len(burst), 30)
            live_seconds = sub.last_at - t0
            live_received = sub.count - before
            sub.stop()

            # ----- catch-up throughput: one stream reads a backlog -------------------------
            if args.backlog_orders:
                for no in _intake(engine, args.backlog_orders):
                    engine.service.dispatch(no, dept=DEPT, assist=[], actor=AGENT)
                    engine.service.sign(no, dept=DEPT, actor=UNIT)
                    engine.service.resolve(no, dept=DEPT, reply="已办", actor=UNIT)
            server.hub.index()
            expected = len(server.hub.read(DEPT, 0, limit=10**9))
            reader = _Subscriber(channel, token, after=0)
            reader.wait(lambda: reader.count >= expected, 60)
            catchup_seconds = reader.last_at - (reader.first_at or reader.last_at)
            catchup_count = reader.count
            reader.stop()
        finally:
            channel.close()
            server.stop(grace=1.0)
            engine.close()

    return {
        "latency": {
            "backend": args.backend,
            "dept": DEPT,
            "offered_rate_per_s": args.rate,
            "achieved_rate_per_s": round(total / sending, 1) if sending else None,
            "dispatches": total,
            "received": len(latencies),
            "lost": lost,
            "senders": args.senders,
            "command_p50_ms": round(statistics.median(commands), 2) if commands else None,
            "command_p99_ms": round(_percentile(commands, 0.99), 2) if commands else None,
            "feed_lag_p50_ms": round(statistics.median(lags), 2) if lags else None,
            "feed_lag_p99_ms": round(_percentile(lags, 0.99), 2) if lags else None,
            "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
            "p99_ms": round(_percentile(latencies, 0.99), 2) if latencies else None,
            "max_ms": round(max(latencies), 2) if latencies else None,
            "target_p99_ms": 50,
            "ok": bool(latencies) and lost == 0 and _percentile(latencies, 0.99) < 50,
        },
        "throughput": {
            "catchup_events": catchup_count,
            "catchup_events_per_s": round(catchup_count / catchup_seconds, 1)
            if catchup_seconds > 0 else None,
            "live_events": live_received,
            "live_events_per_s": round(live_received / live_seconds, 1)
            if live_seconds > 0 else None,
            "burst_threads": args.burst_threads,
        },
    }
