"""CommandSlots (adapters/grpc/slots.py) on a real gRPC server: at most N of the engine's
unary calls run at once, the rest wait and all are answered; streams and other services'
methods (health checks) are not limited."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from adapters.grpc.slots import CommandSlots


class Probe:
    """Counts how many calls run at the same moment; each waits until `together` calls
    are running (a call that cannot meet enough others fails after 10 s)."""

    def __init__(self, together: int) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.barrier = threading.Barrier(together, timeout=10)

    def enter(self) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)

    def leave(self) -> None:
        with self.lock:
            self.running -= 1

    def call(self, request: bytes, context: Any) -> bytes:
        self.enter()
        try:
            self.barrier.wait()
            time.sleep(0.05)
            return request
        finally:
            self.leave()

    def stream(self, request: bytes, context: Any) -> Iterator[bytes]:
        self.enter()
        try:
            self.barrier.wait()
            yield request
        finally:
            self.leave()


def serve(probe: Probe, slots: int) -> tuple[grpc.Server, grpc.Channel]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32),
                         interceptors=(CommandSlots(slots),))
    methods = {"Call": grpc.unary_unary_rpc_method_handler(probe.call),
               "Stream": grpc.unary_stream_rpc_method_handler(probe.stream)}
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("rexian.probe.v1.Probe", methods),
        grpc.method_handlers_generic_handler("other.v1.Probe", methods)))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=10)
    return server, channel


def concurrently(count: int, action: Any) -> list[Any]:
    with futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(action, range(count)))


def test_at_most_slots_engine_calls_run_at_once_and_every_one_is_answered() -> None:
    probe = Probe(together=2)
    server, channel = serve(probe, slots=2)
    try:
        call = channel.unary_unary("/rexian.probe.v1.Probe/Call")
        answers = concurrently(6, lambda i: call(bytes([i]), timeout=30))
        assert answers == [bytes([i]) for i in range(6)]
        assert probe.most == 2
    finally:
        channel.close()
        server.stop(None)


def test_streams_and_other_services_are_not_limited() -> None:
    probe = Probe(together=4)  # would time out if they ran one at a time
    server, channel = serve(probe, slots=1)
    try:
        stream = channel.unary_stream("/rexian.probe.v1.Probe/Stream")
        assert concurrently(4, lambda i: list(stream(bytes([i]), timeout=30))) == \
            [[bytes([i])] for i in range(4)]
        assert probe.most == 4
        probe.most = 0
        other = channel.unary_unary("/other.v1.Probe/Call")
        concurrently(4, lambda i: other(bytes([i]), timeout=30))
        assert probe.most == 4
    finally:
        channel.close()
        server.stop(None)


def test_slots_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CommandSlots(0)
