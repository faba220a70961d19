"""Bearer-token authentication for the gRPC API.

* Departments: the `token` of their entry in the department registry
  (config/departments.toml), sent as metadata `authorization: Bearer <token>`.
* The hotline centre (TicketService, AuditService, TelephonyService): the centre token from
  the environment variable REXIAN_CENTRE_TOKEN; when unset, the development token
  DEFAULT_CENTRE_TOKEN below (the server logs a warning: set a real one in production).

A missing or unknown token → UNAUTHENTICATED; a valid token used on the other side's
API, or a department naming another department → PERMISSION_DENIED.
"""

from __future__ import annotations

import hmac
import logging
import os
from dataclasses import dataclass
from urllib.parse import unquote

import grpc

from adapters.grpc.errors import Abort
from domain.ports import DepartmentDirectory
from domain.values import Actor

log = logging.getLogger("rexian.grpc.auth")

CENTRE_TOKEN_ENV = "REXIAN_CENTRE_TOKEN"
DEFAULT_CENTRE_TOKEN = "rexian-dev-centre-token"
ACTOR_HEADER = "x-rexian-actor"


def centre_token_from_env() -> str:
    return os.environ.get(CENTRE_TOKEN_ENV) or DEFAULT_CENTRE_TOKEN


@dataclass(frozen=True)
class Principal:
    kind: str  # "centre" or "department"
    department: str | None = None


class Authenticator:
    def __init__(self, departments: DepartmentDirectory, centre_token: str) -> None:
        if not centre_token:
            raise ValueError("the centre token must not be empty")
        self.centre_token = centre_token
        self.tokens = [(d.token, d.name) for d in departments.all() if d.token]

    def principal(self, context: grpc.ServicerContext) -> Principal:
        token = bearer(context)
        if token is None:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED,
                        "missing metadata `authorization: Bearer <token>`")
        if hmac.compare_digest(token.encode(), self.centre_token.encode()):
            return Principal("centre")
        for candidate, name in self.tokens:
            if hmac.compare_digest(token.encode(), candidate.encode()):
                return Principal("department", name)
        raise Abort(grpc.StatusCode.UNAUTHENTICATED, "unknown token")

    def centre(self, context: grpc.ServicerContext) -> Principal:
        who = self.principal(context)
        if who.kind != "centre":
            raise Abort(grpc.StatusCode.PERMISSION_DENIED,
                        f"department {who.department} may not use the centre's API")
        return who

    def department(self, context: grpc.ServicerContext, named: str | None = None) -> str:
        """The authenticated department; `named` (a request field) must be the same unit."""
        who = self.principal(context)
        if who.kind != "department" or who.department is None:
            raise Abort(grpc.StatusCode.PERMISSION_DENIED,
                        "the department API needs a department token")
        if named and named != who.department:
            raise Abort(grpc.StatusCode.PERMISSION_DENIED,
                        f"department {who.department} may not act for {named}")
        return who.department


def bearer(context: grpc.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def metadata_actor(context: grpc.ServicerContext) -> str | None:
    """`x-rexian-actor: role:id` (percent-encoded UTF-8), if sent."""
    for key, value in context.invocation_metadata() or ():
        if key.lower() == ACTOR_HEADER and isinstance(value, str) and value.strip():
            return unquote(value.strip())
    return None


def resolve_actor(request_actor: object | None, context: grpc.ServicerContext,
                  default_role: str, default_id: str) -> Actor:
    """The request's actor field, else metadata x-rexian-actor, else the command's default."""
    role = getattr(request_actor, "role", "") if request_actor is not None else ""
    ident = getattr(request_actor, "id", "") if request_actor is not None else ""
    if role or ident:
        return Actor(role or default_role, ident or default_id)
    text = metadata_actor(context)
    if text:
        return Actor.parse(text, default_role)
    return Actor(default_role, default_id)
