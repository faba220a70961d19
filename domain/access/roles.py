"""The staff roles of a hotline centre, and who an authenticated caller is."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from domain.values import Actor

# English identifier -> what staff call it. The permission matrix (permissions.toml) gives
# each of these its operations; tokens are issued for one of them.
STAFF_ROLES: Final = {
    "agent": "坐席",
    "dispatcher": "派单员",
    "supervisor": "督办",
    "auditor": "审计",
    "department": "承办单位",
    "robot": "外呼机器人",
    "admin": "系统管理员",
}

# How an identity was established: a bearer token (gRPC, web), or the OS user running the
# local CLI on the store itself (whoever can read the database file can act; the record
# says it was them, locally, in which role).
VIA_TOKEN: Final = "token"
VIA_LOCAL: Final = "local"


@dataclass(frozen=True)
class Identity:
    """An authenticated member of staff (or system component) and its roles. A person may
    hold several (a shift leader: 坐席 and 派单员); each operation is done in one of them,
    the one the permission matrix grants it under (`acting`), and that one is recorded."""

    roles: tuple[str, ...]
    id: str
    dept: str | None = None  # the unit a department identity is bound to
    via: str = VIA_TOKEN

    @property
    def role(self) -> str:
        """The role acted in (the first, for an identity narrowed by `acting`)."""
        return self.roles[0]

    def acting(self, role: str) -> Identity:
        return replace(self, roles=(role,))

    def actor(self) -> Actor:
        """Who the events record: the identity itself, never a name the caller typed."""
        if self.role == "department":
            unit = self.dept or self.id
            return Actor("department", unit if self.id == unit else f"{unit}/{self.id}")
        return Actor(self.role, self.id)
