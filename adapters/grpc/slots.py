"""At most N of the engine's unary calls run at once; the others wait their turn, asleep.

The sync gRPC server runs each call on a thread of its pool (64: a department's Subscribe
stream holds one for as long as it is open). Under load, every unary call in flight
competes for the one interpreter lock: with 16 commands running at once each is slowed
sixteen-fold (processor sharing), so all of them finish late; and every hand-over of the
lock between a dozen runnable threads costs a context switch and cold caches. Measured
with bench feed at 200 dispatches/s: a pool of 12 threads instead of 64 cut the
end-to-end p99 by half. Shrinking the pool would starve the feed streams, so instead the
engine's unary methods take one of `slots` places before they run (a waiting thread
sleeps on a semaphore, outside the interpreter lock) and commands are served about in
arrival order. Concurrent commands still share group commits (domain/group_commit.py) up
to `slots` per batch.

Streams (Subscribe, ReportStream, Replay) are not limited: they wait for events, not the
processor. Health checks and reflection are not limited either (a load balancer asking
whether the engine is alive must not queue behind commands).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import grpc

DEFAULT_SLOTS = 8
LIMITED_PREFIX = "/rexian."  # the engine's own services (proto package rexian.*)


class CommandSlots(grpc.ServerInterceptor):
    """A server interceptor: unary-unary methods of rexian.* services run `slots` at a time."""

    def __init__(self, slots: int = DEFAULT_SLOTS) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)
        self._wrapped: dict[Any, Any] = {}  # a method's handler -> its limited handler
        self._guard = threading.Lock()

    def intercept_service(self, continuation: Callable[[Any], Any],
                          handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or \
                not str(handler_call_details.method).startswith(LIMITED_PREFIX):
            return handler
        limited = self._wrapped.get(handler)
        if limited is None:
            with self._guard:
                limited = self._wrapped.setdefault(
                    handler, handler._replace(unary_unary=self._limit(handler.unary_unary)))
        return limited

    def _limit(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        free = self._free

        def run(request: Any, context: grpc.ServicerContext) -> Any:
            with free:
                return behavior(request, context)

        return run
