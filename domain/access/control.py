"""Access control: tokens in, identities out; every operation checked against the matrix;
reveals, auditors' reads and refusals recorded in the access log.

Front ends (gRPC, the web console, the local CLI) authenticate the caller, then ask
`authorize` before doing anything with the request; what they then record names
`identity.actor()`, never an actor the request chose.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.access.access_log import (
    AS_OF,
    HISTORY,
    REFUSED,
    REVEAL,
    TARGET_NONE,
    AccessEntry,
)
from domain.access.credentials import (
    TOKEN_PREFIX,
    Credential,
    credential_id,
    new_token,
    token_hash,
)
from domain.access.permissions import Matrix, denied, matrix
from domain.access.roles import STAFF_ROLES, VIA_TOKEN, Identity
from domain.errors import InvalidInput, PermissionDenied, Unauthenticated, shown
from domain.values import Actor, require_choice, require_identifier, require_text
from domain.views import iso

if TYPE_CHECKING:
    from domain.service import WorkOrderService

# A credential checked in the last few seconds is not loaded again (every RPC would pay a
# store read). A revocation in this process takes effect at once; one made by another
# process on the same store within CACHE_SECONDS.
CACHE_SECONDS: Final = 5.0
_TOKEN_SHAPE = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")
ANONYMOUS: Final = Actor("system", "unauthenticated")


def unauthenticated(why_zh: str, why_en: str) -> Unauthenticated:
    return Unauthenticated(f"身份验证失败：{why_zh}", f"authentication failed: {why_en}")


class AccessControl:
    """Credentials, the permission matrix and the access log, on the engine's store."""

    def __init__(self, app: WorkOrderService, permissions: Matrix | None = None) -> None:
        self.app = app
        self.matrix = permissions or matrix()
        self._cache: dict[str, tuple[float, Credential]] = {}
        self._lock = threading.Lock()

    # ----- credentials ------------------------------------------------------------------
    def issue(self, *, roles: list[str] | tuple[str, ...], staff_id: str,
              dept: str | None = None, expires_at: datetime | None = None, actor: Actor
              ) -> dict[str, Any]:
        """A new token for `staff_id` in `roles`; the token is in the answer and nowhere
        else (the store keeps its hash)."""
        if not roles:
            raise InvalidInput("role", "至少指定一个角色（--role）", "give at least one --role")
        for role in roles:
            require_choice("role", role, tuple(STAFF_ROLES), "角色")
        roles = tuple(dict.fromkeys(roles))
        staff_id = require_identifier("id", staff_id, "工号/标识", max_len=100)
        if "department" in roles and len(roles) > 1:
            raise InvalidInput("role", "承办单位角色不能与其他角色合用一个令牌",
                               "a department token holds no other role")
        role = roles[0]
        if role == "department":
            if not dept:
                raise InvalidInput("dept", "承办单位角色的令牌必须指定单位（--dept）",
                                   "a department token must name its unit (--dept)")
            self.app._dept(dept)
        elif dept:
            raise InvalidInput("dept", f"只有承办单位角色的令牌绑定单位（角色：{role}）",
                               f"only department tokens are bound to a unit (role: {role})")
        at = self.app.now()
        if expires_at is not None and expires_at <= at:
            raise InvalidInput("expires", f"到期时间 {iso(expires_at)} 已过",
                               f"expiry {iso(expires_at)} is in the past")
        token = new_token()
        digest = token_hash(token)
        credential = Credential.issue(digest=digest, roles=list(roles), staff_id=staff_id,
                                      dept=dept or None, expires_at=expires_at, actor=actor,
                                      at=at)
        self.app._commit(credential)
        return {"token": token, "token_id": str(credential.id), "roles": list(roles),
                "id": staff_id, "dept": dept or None,
                "expires_at": iso(expires_at) if expires_at else None,
                "issued_at": iso(at)}

    def revoke(self, token_id: str, *, reason: str, actor: Actor) -> dict[str, Any]:
        reason = require_text("reason", reason, "吊销理由", 500)
        credential = self._credential_by_id(token_id)
        if credential.revoked_at is not None:
            raise InvalidInput("token_id", f"令牌 {shown(token_id)} 已于 "
                               f"{iso(credential.revoked_at)} 吊销",
                               f"token {shown(token_id)} was already revoked at "
                               f"{iso(credential.revoked_at)}")
        at = self.app.now()
        credential.revoke(reason=reason, actor=actor, at=at)
        self.app._commit(credential)
        with self._lock:
            self._cache.pop(credential.token_sha256, None)
        return {"token_id": str(credential.id), "roles": list(credential.roles),
                "id": credential.staff_id, "dept": credential.dept,
                "revoked_at": iso(at), "reason": reason}

    def _credential_by_id(self, token_id: str) -> Credential:
        try:
            key = UUID(token_id.strip())
        except (ValueError, AttributeError):
            raise InvalidInput("token_id", f"令牌编号“{shown(token_id)}”格式不对（应为 UUID）",
                               f"token id {shown(token_id)!r} is not a UUID") from None
        try:
            found: Any = self.app.repository.get(key)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Credential):  # unknown, or another aggregate's id
            raise InvalidInput("token_id", f"没有编号为 {shown(token_id)} 的令牌",
                               f"no token with id {shown(token_id)}")
        return found

    def authenticate(self, token: str | None, *, operation: str = "") -> Identity:
        """The identity a bearer token stands for. A missing, malformed, unknown, expired or
        revoked token is refused (Unauthenticated) and the refusal logged."""
        if not token:
            raise self._refused_login("缺少访问令牌", "no token given", operation)
        if not _TOKEN_SHAPE.fullmatch(token):
            raise self._refused_login("令牌格式不对", "malformed token", operation)
        digest = token_hash(token)
        now = self.app.now()
        credential = self._cached(digest)
        if credential is None:
            try:
                found: Any = self.app.repository.get(credential_id(digest))
            except AggregateNotFoundError:
                raise self._refused_login("未知令牌", "unknown token", operation) from None
            if not isinstance(found, Credential) or not found.matches(token):
                raise self._refused_login("未知令牌", "unknown token", operation)
            credential = found
            with self._lock:
                self._cache[digest] = (time.monotonic() + CACHE_SECONDS, credential)
        status = credential.status(now)
        if status == "revoked":
            raise self._refused_login("令牌已吊销", "token revoked", operation,
                                      str(credential.id))
        if status == "expired":
            raise self._refused_login("令牌已过期", "token expired", operation,
                                      str(credential.id))
        return credential.identity()

    def _cached(self, digest: str) -> Credential | None:
        with self._lock:
            hit = self._cache.get(digest)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._cache[digest]
                return None
            return hit[1]

    def _refused_login(self, zh: str, en: str, operation: str, target: str = ""
                       ) -> Unauthenticated:
        self._log(ANONYMOUS, REFUSED, operation, "credential" if target else TARGET_NONE,
                  target, "", f"{zh} / {en}", VIA_TOKEN)
        return unauthenticated(zh, en)

    # ----- authorisation and the access log ----------------------------------------------
    def authorize(self, identity: Identity, operation: str, *, target_kind: str = TARGET_NONE,
                  target: str = "") -> Identity:
        """The identity acting in the role that may run `operation`; a refusal is logged."""
        try:
            return self.matrix.check(identity, operation)
        except PermissionDenied as error:
            self.refused(identity, operation, error, target_kind=target_kind, target=target)
            raise

    def deny(self, identity: Identity, operation: str, why: tuple[str, str], *,
             target_kind: str = TARGET_NONE, target: str = "") -> PermissionDenied:
        """A refusal the matrix alone does not decide (wrong API, another unit, a claimed
        actor), logged; the caller raises it."""
        error = denied(identity, operation, self.matrix.label(operation), why)
        self.refused(identity, operation, error, target_kind=target_kind, target=target)
        return error

    def refused(self, identity: Identity, operation: str, error: Exception, *,
                target_kind: str = TARGET_NONE, target: str = "") -> None:
        self._log(identity.actor(), REFUSED, operation, target_kind, target, "", str(error),
                  identity.via)

    def failed(self, actor: Actor, operation: str, error: Exception, *,
               target_kind: str = TARGET_NONE, target: str = "") -> None:
        """A permitted request refused on its merits (erasing a citizen the vault does not
        know), logged like a refusal: `target` must already be masked."""
        self._log(actor, REFUSED, operation, target_kind, target, "", str(error), "")

    def reveal(self, identity: Identity, *, reason: str | None, target_kind: str,
               target: str) -> str:
        """Permission to show `target` unmasked: the role may reveal and gave a reason.
        The reveal is logged before anything is shown; returns the reason."""
        try:
            acting = self.matrix.check(identity, "reveal")
            why = require_text("reason", reason, "查看理由", 500)
        except (PermissionDenied, InvalidInput) as error:
            self.refused(identity, "reveal", error, target_kind=target_kind, target=target)
            raise
        self._log(acting.actor(), REVEAL, "reveal", target_kind, target, why, "", acting.via)
        return why

    def read(self, identity: Identity, *, as_of: datetime | None, target_kind: str,
             target: str, reason: str = "") -> None:
        """A history / as-of read: checked, and logged when an auditor makes it."""
        operation = "as_of" if as_of is not None else "history"
        acting = self.authorize(identity, operation, target_kind=target_kind, target=target)
        if "auditor" in identity.roles:
            self._log(acting.actor(), AS_OF if as_of is not None else HISTORY, operation,
                      target_kind, target, reason, iso(as_of) or "", acting.via)

    def _log(self, actor: Actor, action: str, operation: str, target_kind: str, target: str,
             reason: str, detail: str, via: str) -> None:
        entry = AccessEntry.record(action=action, operation=operation[:100],
                                   target_kind=target_kind, target=shown(target, 100),
                                   reason=reason, detail=detail[:1000], via=via,
                                   actor=actor, at=self.app.now())
        self.app._commit(entry)
