"""Domain errors <-> gRPC status codes.

Server side: InvalidInput (and UnknownDepartment) → INVALID_ARGUMENT, the details starting
with the field name; IllegalTransition → FAILED_PRECONDITION naming the state; UnknownTicket
→ NOT_FOUND, and so does UnknownCitizen (erasure); NotResponsible → FAILED_PRECONDITION (centre) or PERMISSION_DENIED
(department API); Unauthenticated → UNAUTHENTICATED; PermissionDenied → PERMISSION_DENIED; a concurrent write to the same order → ABORTED (retry).
Trailing metadata carry the error precisely for clients: `rexian-error-type`,
`rexian-error-field`, `rexian-error-state-bin`, `rexian-error-zh-bin`, `rexian-error-en-bin`
(UTF-8). Client side, `domain_error` rebuilds the same DomainError subclass from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, NoReturn, TypeVar

import grpc
from eventsourcing.persistence import IntegrityError

from domain import errors as domain_errors
from domain.errors import (
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotResponsible,
    PermissionDenied,
    Unauthenticated,
    UnknownCitizen,
    UnknownTicket,
)

log = logging.getLogger("rexian.grpc")
F = TypeVar("F", bound=Callable[..., Any])
# Trailers echo user input: clients refuse metadata over ~8-16 KB (RESOURCE_EXHAUSTED), so a
# huge ticket number must not travel back whole. Real numbers have 12 characters.
MAX_ECHOED = 200
# The same for messages that quote a huge value whole (the status details is a header too).
MAX_MESSAGE = 1000


def _cut(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


class Abort(Exception):
    """Raised by handlers to end an RPC with a status (auth failures, bad requests)."""

    def __init__(self, code: grpc.StatusCode, message: str,
                 metadata: tuple[tuple[str, str | bytes], ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.metadata = metadata


def status_of(error: DomainError, *, department_api: bool = False
              ) -> tuple[grpc.StatusCode, str, tuple[tuple[str, str | bytes], ...]]:
    zh, en = _cut(error.zh), _cut(error.en)
    summary = f"{zh} / {en}"
    meta: list[tuple[str, str | bytes]] = [
        ("rexian-error-type", type(error).__name__),
        ("rexian-error-zh-bin", zh.encode("utf-8")),
        ("rexian-error-en-bin", en.encode("utf-8")),
    ]
    if isinstance(error, InvalidInput):
        meta.append(("rexian-error-field", error.field))
        return grpc.StatusCode.INVALID_ARGUMENT, f"{error.field}: {summary}", tuple(meta)
    if isinstance(error, UnknownTicket):
        echoed = error.ticket_no[:MAX_ECHOED]
        meta.append(("rexian-error-ticket-bin", echoed.encode("utf-8", "backslashreplace")))
        return grpc.StatusCode.NOT_FOUND, summary, tuple(meta)
    if isinstance(error, UnknownCitizen):
        return grpc.StatusCode.NOT_FOUND, summary, tuple(meta)
    if isinstance(error, IllegalTransition):
        meta.append(("rexian-error-state-bin", error.state.encode("utf-8")))
        return (grpc.StatusCode.FAILED_PRECONDITION, f"state {error.state}: {summary}",
                tuple(meta))
    if isinstance(error, Unauthenticated):
        return grpc.StatusCode.UNAUTHENTICATED, summary, tuple(meta)
    if isinstance(error, PermissionDenied):
        return grpc.StatusCode.PERMISSION_DENIED, summary, tuple(meta)
    if isinstance(error, NotResponsible) and department_api:
        return grpc.StatusCode.PERMISSION_DENIED, summary, tuple(meta)
    return grpc.StatusCode.FAILED_PRECONDITION, summary, tuple(meta)


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str,
           metadata: tuple[tuple[str, str | bytes], ...]) -> NoReturn:
    if metadata:
        context.set_trailing_metadata(metadata)
    context.abort(code, message)
    raise AssertionError("unreachable")  # context.abort raises


def _handle(error: BaseException, context: grpc.ServicerContext, department_api: bool
            ) -> NoReturn:
    if isinstance(error, Abort):
        _abort(context, error.code, error.message, error.metadata)
    if isinstance(error, DomainError):
        _abort(context, *status_of(error, department_api=department_api))
    if isinstance(error, IntegrityError):
        _abort(context, grpc.StatusCode.ABORTED,
               "concurrent update of the same work order; retry", ())
    log.exception("unexpected error in gRPC handler")
    _abort(context, grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}", ())


def unary(department_api: bool = False) -> Callable[[F], F]:
    """Map domain errors of a unary (or client-streaming) handler to gRPC statuses."""

    def decorate(func: F) -> F:
        @wraps(func)
        def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
            try:
                return func(self, request, context)
            except Exception as error:  # noqa: BLE001 - every error becomes a status
                if isinstance(error, grpc.RpcError):
                    raise
                _handle(error, context, department_api)

        return wrapper  # type: ignore[return-value]

    return decorate


def streaming(department_api: bool = False) -> Callable[[F], F]:
    """Same for server-streaming handlers (generators)."""

    def decorate(func: F) -> F:
        @wraps(func)
        def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from func(self, request, context)
            except Exception as error:  # noqa: BLE001 - every error becomes a status
                if isinstance(error, grpc.RpcError):
                    raise
                _handle(error, context, department_api)

        return wrapper  # type: ignore[return-value]

    return decorate


# ----- client side --------------------------------------------------------------------
class RemoteError(DomainError):
    """A gRPC failure that is not a domain error (unreachable server, bad token...)."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"远程调用失败（{code}）：{details}", f"remote call failed ({code}): "
                         f"{details}")
        self.code = code


def domain_error(error: grpc.RpcError) -> DomainError:
    """The DomainError the server raised (same class and messages), or a RemoteError."""
    call: Any = error
    try:
        meta = {k: v for k, v in (call.trailing_metadata() or ())}
        code = call.code()
        details = call.details() or ""
    except Exception:  # noqa: BLE001 - not a call error: no status to read
        return RemoteError("UNKNOWN", str(error))
    name = meta.get("rexian-error-type")
    cls = getattr(domain_errors, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, DomainError)):
        return RemoteError(code.name if code else "UNKNOWN", details)

    def text(key: str) -> str:
        raw = meta.get(key, b"")
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)

    rebuilt: DomainError = cls.__new__(cls)
    DomainError.__init__(rebuilt, text("rexian-error-zh-bin"), text("rexian-error-en-bin"))
    if "rexian-error-field" in meta:
        rebuilt.field = str(meta["rexian-error-field"])  # type: ignore[attr-defined]
    if "rexian-error-state-bin" in meta:
        rebuilt.state = text("rexian-error-state-bin")  # type: ignore[attr-defined]
    if "rexian-error-ticket-bin" in meta:
        rebuilt.ticket_no = text("rexian-error-ticket-bin")  # type: ignore[attr-defined]
    return rebuilt
