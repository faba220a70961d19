"""Department feed latency and throughput over a real gRPC server.

`python -m tools.bench feed [--backend sqlite|postgres] [--mode processes|inprocess]
[--rate 200] [--seconds 5] [--senders 16] [--burst-orders 600] [--burst-threads 4]
[--backlog-orders 0] [--json]`

WHERE THE LOAD SITS (`--mode`): in production the dispatching clients and the department's
subscriber are other programs on other machines. With `processes` (the default) this
process runs only the server (engine, gRPC, feed projection); the senders and the
subscriber run in two child processes (multiprocessing, spawn), each with its own GIL. On
this machine they still share its cores with the server: `load_before`/`load_after`
(os.getloadavg) and the CPU each side spent per dispatch (`server_cpu_ms_per_dispatch`,
`client_cpu_ms_per_dispatch`: process CPU time over the timed run) say how much. With
`inprocess` (the earlier benchmark) the senders and the subscriber are threads of the
server's process, under its one GIL: conservative figures.

LATENCY: a department (区水务局) subscribes to its feed; the centre dispatches pre-registered
orders to it over gRPC (TicketService.Dispatch) at a steady `rate` per second for
`seconds` seconds (open loop: each send is scheduled at t0 + i/rate and runs on one of
`senders` client threads, so a slow commit does not lower the offered rate). Latency =
time from the instant the Dispatch was due to the receipt of that order's Dispatched
event on the department's stream (one clock for every process: time.monotonic, Linux's
system-wide CLOCK_MONOTONIC; waiting for a free sender counts, so there is no coordinated
omission); it includes the command itself (its SQLite commit is fsync-bound), reported
separately as command_p50/p99_ms; the feed's own share (receipt after the command's
response, 0 when it arrived first) is feed_lag_p50/p99_ms.
Reported: p50, p99, max (ms), offered and achieved rates, lost events.

THROUGHPUT:
* `catchup_events_per_s`: a fresh subscriber reads the unit's whole feed from position 0
  (every event of the two runs above, plus `backlog-orders` dispatched, signed and
  resolved orders, 3 feed events each): events/s one stream delivers.
* `live_events_per_s`: `burst-threads` clients dispatch `burst-orders` orders as fast as
  the engine accepts them while the subscriber is attached: events/s received end to end
  (bounded by the command rate; SQLite commits are fsync-bound).

The store is a temporary SQLite file (commits are fsync-bound; group commit shares one
transaction among concurrent commands), or a throwaway PostgreSQL cluster
(tests/support/postgres.py, fsync off: CPU-bound figures). Run from the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from adapters.grpc.client import Calls
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2_grpc as dept_grpc
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb

if TYPE_CHECKING:  # the child processes import this module: they need the stubs only
    from adapters.bootstrap import Engine

DEPT = "区水务局"
MODES = ("processes", "inprocess")
CALL_TIMEOUT_S = 120.0  # the longest a child may take to answer one step


def _clock() -> float:
    """The one clock of every process (CLOCK_MONOTONIC is system-wide on Linux)."""
    return time.monotonic()


def _intake(engine: Engine, count: int) -> list[str]:
    from domain.values import Actor

    agent = Actor("agent", "bench")
    return [engine.service.intake(channel="电话", category="投诉", urgency="一般",
                                  region="甬江区", content=f"压测工单 {i}", caller_name="测试",
                                  caller_phone="13800138000", actor=agent)
            for i in range(count)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = _clock() + timeout
    while _clock() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return bool(predicate())


COMMAND_TIMEOUT_S = 60.0  # a dispatch queued this long has failed the benchmark anyway


def _channel(address: str) -> grpc.Channel:
    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=10)
    return channel


class Subscriber:
    """The department's stream: the receipt instant of every order's Dispatched event."""

    def __init__(self, address: str, token: str, after: int) -> None:
        self.channel = _channel(address)
        stub = dept_grpc.DepartmentFeedServiceStub(self.channel)
        # The clients' authorization metadata (a stream has no deadline, so not Calls()).
        self.call: Any = stub.Subscribe(
            dept_pb.SubscribeRequest(department=DEPT, after_position=after),
            metadata=Calls(self.channel, token, COMMAND_TIMEOUT_S).metadata)
        self.received: dict[str, float] = {}
        self.count = 0
        self.first_at: float | None = None
        self.last_at = 0.0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for response in self.call:
                now = _clock()
                event = response.event
                if self.first_at is None:
                    self.first_at = now
                self.last_at = now
                self.count += 1
                if event.type == "Dispatched":
                    self.received.setdefault(event.ticket_no, now)
        except grpc.RpcError:
            pass

    def receipts(self, tickets: list[str], timeout: float) -> dict[str, float]:
        """Once every ticket's Dispatched arrived (or timeout): their receipt instants."""
        _wait(lambda: all(no in self.received for no in tickets), timeout)
        return {no: self.received[no] for no in tickets if no in self.received}

    def counted(self, count: int, timeout: float) -> tuple[int, float | None, float]:
        """Once `count` events arrived (or timeout): (events, first and last receipt)."""
        _wait(lambda: self.count >= count, timeout)
        return self.count, self.first_at, self.last_at

    def stop(self) -> None:
        self.call.cancel()
        self._thread.join(timeout=5)
        self.channel.close()


class Sender:
    """The centre's dispatching clients."""

    def __init__(self, address: str, token: str) -> None:
        self.channel = _channel(address)
        self.calls = Calls(self.channel, token, COMMAND_TIMEOUT_S)

    def dispatch(self, no: str) -> None:
        self.calls(self.calls.tickets.Dispatch, ticket_pb.DispatchRequest(ticket_no=no, dept=DEPT))

    def closed_loop(self, tickets: list[str], threads: int) -> tuple[float, float]:
        """Dispatch as fast as `threads` clients can; (start, end)."""
        start = _clock()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(self.dispatch, tickets))
        return start, _clock()

    def open_loop(self, tickets: list[str], rate: float, senders: int) -> dict[str, Any]:
        """Each dispatch due at start + i/rate, sent by one of `senders` threads (a slow
        commit delays neither the following sends nor the offered rate)."""
        scheduled: dict[str, float] = {}
        sent: dict[str, float] = {}
        done: dict[str, float] = {}

        def timed_dispatch(no: str) -> None:
            sent[no] = _clock()
            self.dispatch(no)
            done[no] = _clock()

        cpu = time.process_time()
        start = _clock()
        with ThreadPoolExecutor(senders) as pool:
            for i, no in enumerate(tickets):
                scheduled[no] = start + i / rate
                pause = scheduled[no] - _clock()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(timed_dispatch, no)
            sending = _clock() - start
        return {"scheduled": scheduled, "sent": sent, "done": done, "sending": sending,
                "cpu_s": time.process_time() - cpu}

    def stop(self) -> None:
        self.channel.close()


ROLES: dict[str, Callable[..., Any]] = {"subscriber": Subscriber, "sender": Sender}


def _child(conn: Connection, role: str, args: tuple[Any, ...]) -> None:
    """A child process: builds the role, then runs each (method, args) it is sent."""
    obj = ROLES[role](*args)
    conn.send(("ok", None))
    while True:
        message = conn.recv()
        if message is None:
            obj.stop()
            conn.send(("ok", None))
            return
        method, call_args = message
        if method == "cpu":
            conn.send(("ok", time.process_time()))
            continue
        try:
            conn.send(("ok", getattr(obj, method)(*call_args)))
        except Exception as error:  # noqa: BLE001 - reported to the parent, which raises
            conn.send(("error", repr(error)))


class _Remote:
    """A role in a child process (its own interpreter and GIL), called step by step."""

    def __init__(self, context: Any, role: str, *args: Any) -> None:
        self.conn, child_conn = multiprocessing.Pipe()
        self.process = context.Process(target=_child, args=(child_conn, role, args),
                                       name=f"bench-feed-{role}", daemon=True)
        self.process.start()
        child_conn.close()
        self._answer()

    def _answer(self) -> Any:
        if not self.conn.poll(CALL_TIMEOUT_S):
            raise TimeoutError("bench feed: a child process did not answer")
        status, value = self.conn.recv()
        if status != "ok":
            raise RuntimeError(f"bench feed child: {value}")
        return value

    def call(self, method: str, *args: Any) -> Any:
        self.conn.send((method, args))
        return self._answer()

    def cpu(self) -> float:
        return float(self.call("cpu"))

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
            self._answer()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
        self.conn.close()


class _Local:
    """A role as threads of this process (mode inprocess)."""

    def __init__(self, role: str, *args: Any) -> None:
        self.obj = ROLES[role](*args)

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.obj, method)(*args)

    def cpu(self) -> float:
        return 0.0  # counted in this process's own CPU time

    def stop(self) -> None:
        self.obj.stop()


@contextlib.contextmanager
def _role(mode: str, role: str, *args: Any) -> Iterator[_Remote | _Local]:
    part: _Remote | _Local = (_Remote(multiprocessing.get_context("spawn"), role, *args)
                              if mode == "processes" else _Local(role, *args))
    try:
        yield part
    finally:
        part.stop()


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _ms(values: list[float], q: float | None = None) -> float | None:
    if not values:
        return None
    return round(statistics.median(values) if q is None else _percentile(values, q), 2)


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench feed")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite",
                        help="the store (postgres: a throwaway cluster, fsync off)")
    parser.add_argument("--mode", choices=MODES, default="processes",
                        help="processes: senders and subscriber in child processes; "
                             "inprocess: threads of the server's process")
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
    load_before = _load()

    from adapters.bootstrap import build_engine
    from adapters.grpc.server import serve_grpc
    from domain.values import Actor

    with tempfile.TemporaryDirectory(prefix="rexian-bench-feed-") as tmp, \
            contextlib.ExitStack() as stack:
        if args.backend == "postgres":
            from tests.support.postgres import ThrowawayPostgres

            pg = stack.enter_context(ThrowawayPostgres())
            engine = build_engine(pg.create_database("bench_feed"))
        else:
            engine = build_engine(str(Path(tmp) / "rexian.db"))
        orders = _intake(engine, warmup + total + args.burst_orders)
        admin = Actor("admin", "bench")
        centre_token = engine.access.issue(roles=["dispatcher"], staff_id="bench-dispatcher",
                                           actor=admin)["token"]
        token = engine.access.issue(roles=["department"], staff_id=DEPT, dept=DEPT,
                                    actor=admin)["token"]
        server, port = serve_grpc(engine, "127.0.0.1:0")
        address = f"127.0.0.1:{port}"
        try:
            with _role(args.mode, "subscriber", address, token, 0) as sub, \
                    _role(args.mode, "sender", address, centre_token) as sender:
                # ----- latency at a steady rate ------------------------------------------
                sender.call("closed_loop", orders[:warmup], 1)
                sub.call("receipts", orders[:warmup], 10)
                timed = orders[warmup:warmup + total]
                cpu = (time.process_time(), sender.cpu(), sub.cpu())
                result = sender.call("open_loop", timed, args.rate, args.senders)
                received = sub.call("receipts", timed, 10)
                server_cpu = time.process_time() - cpu[0]
                client_cpu = sender.cpu() - cpu[1] + sub.cpu() - cpu[2]
                scheduled, done = result["scheduled"], result["done"]
                sending = result["sending"]
                # From the instant the dispatch was due (not when a sender thread got to
                # it): waiting for a free sender counts (no coordinated omission).
                latencies = [(received[no] - scheduled[no]) * 1000 for no in timed
                             if no in received]
                commands = [(done[no] - scheduled[no]) * 1000 for no in timed if no in done]
                # The feed's own share: receipt after the command's response (0 if earlier).
                lags = [max(0.0, received[no] - done[no]) * 1000 for no in timed
                        if no in done and no in received]
                lost = total - len(latencies)

                # ----- live throughput: dispatch as fast as possible -----------------------
                burst = orders[warmup + total:]
                before, _, _ = sub.call("counted", 0, 0)
                t0, _ = sender.call("closed_loop", burst, args.burst_threads)
                count, _, last_at = sub.call("counted", before + len(burst), 30)
                live_seconds = last_at - t0
                live_received = count - before

            # ----- catch-up throughput: one stream reads a backlog -------------------------
            if args.backlog_orders:
                unit = Actor("department", DEPT)
                for no in _intake(engine, args.backlog_orders):
                    engine.service.dispatch(no, dept=DEPT, assist=[], actor=admin)
                    engine.service.sign(no, dept=DEPT, actor=unit)
                    engine.service.resolve(no, dept=DEPT, reply="已办", actor=unit)
            server.hub.index()
            expected = len(server.hub.read(DEPT, 0, limit=10**9))
            with _role(args.mode, "subscriber", address, token, 0) as reader:
                catchup_count, first_at, last = reader.call("counted", expected, 60)
            catchup_seconds = last - (first_at or last)
        finally:
            server.stop(grace=1.0)
            engine.close()

    return {
        "latency": {
            "backend": args.backend,
            "mode": args.mode,
            "dept": DEPT,
            "offered_rate_per_s": args.rate,
            "achieved_rate_per_s": round(total / sending, 1) if sending else None,
            "dispatches": total,
            "received": len(latencies),
            "lost": lost,
            "senders": args.senders,
            "command_p50_ms": _ms(commands),
            "command_p99_ms": _ms(commands, 0.99),
            "feed_lag_p50_ms": _ms(lags),
            "feed_lag_p99_ms": _ms(lags, 0.99),
            "p50_ms": _ms(latencies),
            "p99_ms": _ms(latencies, 0.99),
            "max_ms": round(max(latencies), 2) if latencies else None,
            "target_p99_ms": 50,
            "ok": bool(latencies) and lost == 0 and _percentile(latencies, 0.99) < 50,
            # CPU time over the timed run per dispatch: the server's process (in mode
            # inprocess it includes the clients' threads) and the child processes.
            "server_cpu_ms_per_dispatch": round(server_cpu * 1000 / total, 3) if total else None,
            "client_cpu_ms_per_dispatch": round(client_cpu * 1000 / total, 3)
            if total and args.mode == "processes" else None,
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": _load(),
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
