"""Access tokens: issued once, stored only as a hash, revocable, with an optional expiry.

A token is 32 random bytes (base64url) behind a prefix that names it ("rx1_"). Its
SHA-256 names the Credential aggregate that holds who it belongs to (uuid5 of the hash),
so checking a token is one aggregate load and nothing in the store can be turned back into
a token. Issue and revocation are events like any other, in the audit ledger.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime
from typing import Final
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.access.roles import Identity
from domain.lean_events import LeanEvents
from domain.values import Actor

TOKEN_PREFIX: Final = "rx1_"
CREDENTIAL_NAMESPACE: Final = uuid.UUID("5d1f0c4e-8a0b-4c6e-9b6f-637265643031")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def credential_id(digest: str) -> UUID:
    return uuid.uuid5(CREDENTIAL_NAMESPACE, f"credential:{digest}")


class Credential(Aggregate):
    """One token's holder: its roles, an id, the unit it is bound to, when it stops working."""

    def __init__(self) -> None:
        self.roles: list[str] = []
        self.staff_id = ""
        self.dept: str | None = None
        self.expires_at: datetime | None = None
        self.token_sha256 = ""
        self.issued_at: datetime | None = None
        self.revoked_at: datetime | None = None
        self.revoked_reason = ""

    class Event(Aggregate.Event, metaclass=LeanEvents):
        actor_role: str
        actor_id: str

    class Issued(Event, Aggregate.Created):
        roles: list[str]
        staff_id: str
        dept: str | None
        expires_at: datetime | None
        token_sha256: str

        def apply(self, credential: Credential) -> None:
            credential.roles = list(self.roles)
            credential.staff_id = self.staff_id
            credential.dept = self.dept
            credential.expires_at = self.expires_at
            credential.token_sha256 = self.token_sha256
            credential.issued_at = self.timestamp

    class Revoked(Event):
        reason: str

        def apply(self, credential: Credential) -> None:
            credential.revoked_at = self.timestamp
            credential.revoked_reason = self.reason

    @classmethod
    def issue(cls, *, digest: str, roles: list[str], staff_id: str, dept: str | None,
              expires_at: datetime | None, actor: Actor, at: datetime) -> Credential:
        return cls._create(cls.Issued, id=credential_id(digest), timestamp=at,
                           actor_role=actor.role, actor_id=actor.id, roles=roles,
                           staff_id=staff_id, dept=dept, expires_at=expires_at,
                           token_sha256=digest)

    def revoke(self, *, reason: str, actor: Actor, at: datetime) -> None:
        self.trigger_event(self.Revoked, timestamp=at, actor_role=actor.role,
                           actor_id=actor.id, reason=reason)

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(self.token_sha256, token_hash(token))

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    def identity(self) -> Identity:
        return Identity(tuple(self.roles), self.staff_id, self.dept)
