"""Authentication and authorisation for the gRPC API (domain/access).

Every call carries metadata `authorization: Bearer <token>`, a token issued by `rexian
token issue` (only its hash is stored). The token names an identity: a role, an id and,
for a department, the unit it is bound to. Each method asks the permission matrix about
its operation before it looks at the request; what it records names the identity, never
an actor the request chose (a request's `actor` field or an `x-rexian-actor` header that
differs from the identity is refused).

A missing, malformed, unknown, expired or revoked token → UNAUTHENTICATED; an operation the
role may not run, or a department acting for another unit → PERMISSION_DENIED. Both are
recorded in the access log.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

import grpc

from domain.access.access_log import TARGET_NONE
from domain.access.control import AccessControl
from domain.access.roles import Identity
from domain.values import Actor

log = logging.getLogger("rexian.grpc.auth")

ACTOR_HEADER = "x-rexian-actor"


class Authenticator:
    def __init__(self, access: AccessControl) -> None:
        self.access = access

    def identity(self, context: grpc.ServicerContext, operation: str) -> Identity:
        return self.access.authenticate(bearer(context), operation=operation)

    def centre(self, context: grpc.ServicerContext, operation: str, *,
               target_kind: str = TARGET_NONE, target: str = "") -> Identity:
        """The centre's API: an authenticated staff identity (all its roles) allowed
        `operation`. Units use the department API, which shows them only their own orders."""
        who = self.identity(context, operation)
        if "department" in who.roles:
            raise self.access.deny(who, operation, (
                "承办单位请使用单位接口（DepartmentFeedService）",
                "departments use the department API (DepartmentFeedService)"),
                target_kind=target_kind, target=target)
        self.access.authorize(who, operation, target_kind=target_kind, target=target)
        return who

    def department(self, context: grpc.ServicerContext, operation: str,
                   named: str | None = None) -> Identity:
        """The department API: a department identity allowed `operation`; `named` (a
        request field) must be its own unit."""
        who = self.identity(context, operation)
        why: tuple[str, str] | None = None
        if who.roles != ("department",) or not who.dept:
            why = ("单位接口需要承办单位的令牌", "the department API needs a department token")
        elif named and named != who.dept:
            why = (f"不能代表“{named}”操作", f"may not act for {named}")
        if why is not None:
            raise self.access.deny(who, operation, why)
        self.access.authorize(who, operation)
        return who

    def actor(self, who: Identity, operation: str, context: grpc.ServicerContext,
              request_actor: object | None = None) -> Actor:
        """The identity's actor, in the role the matrix grants `operation` under. A request
        that names another actor (its `actor` field, or the x-rexian-actor header) is
        refused: the record is who authenticated."""
        mine = self.access.matrix.check(who, operation).actor()
        named: list[Actor] = []
        role = getattr(request_actor, "role", "") if request_actor is not None else ""
        ident = getattr(request_actor, "id", "") if request_actor is not None else ""
        if role or ident:
            named.append(Actor(role or mine.role, ident or mine.id))
        text = metadata_actor(context)
        if text:
            named.append(Actor.parse(text, mine.role))
        for claimed in named:
            if claimed != mine:
                raise self.access.deny(who, operation, (
                    f"操作人由令牌确定，不能自称“{claimed.role}:{claimed.id}”",
                    f"the actor is the token's identity, not {claimed.role}:{claimed.id}"))
        return mine


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
