"""The permission matrix (permissions.toml beside this module) and the refusal it gives."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from domain.access.roles import STAFF_ROLES, Identity
from domain.commands import BY_NAME, CATALOGUE
from domain.errors import PermissionDenied, shown

MATRIX_FILE: Final = "permissions.toml"


def denied(identity: Identity, operation: str, label: str,
           why: tuple[str, str] | None = None) -> PermissionDenied:
    """The refusal of `operation` (中文名 `label`) to `identity`, with an optional reason."""
    zh_why, en_why = (f"：{why[0]}", f": {why[1]}") if why else ("", "")
    roles_zh = "、".join(STAFF_ROLES.get(r, r) for r in identity.roles)
    return PermissionDenied(
        f"{roles_zh}（{shown(identity.id)}）无权执行“{label}”{zh_why}",
        f"role {'+'.join(identity.roles)} ({shown(identity.id)}) may not {operation}{en_why}")


@dataclass(frozen=True)
class Role:
    name: str
    may: frozenset[str]


@dataclass(frozen=True)
class Matrix:
    operations: dict[str, str]  # operation -> 中文名 (catalogue commands included)
    roles: dict[str, Role]

    def allows(self, role: str, operation: str) -> bool:
        entry = self.roles.get(role)
        return entry is not None and operation in entry.may

    def label(self, operation: str) -> str:
        return self.operations.get(operation, operation)

    def check(self, identity: Identity, operation: str) -> Identity:
        """The identity acting in the role that may run `operation` (a catalogue command's
        own role when held, else the first held role that may), or the refusal."""
        if operation not in self.operations:  # a front end asked about a typo: a bug
            raise KeyError(f"operation {operation!r} is not in the permission matrix")
        allowed = [role for role in identity.roles if self.allows(role, operation)]
        if not allowed:
            raise denied(identity, operation, self.label(operation))
        spec = BY_NAME.get(operation)
        return identity.acting(spec.role if spec and spec.role in allowed else allowed[0])

    def may_reveal(self, role: str) -> bool:
        return self.allows(role, "reveal")

    def roles_for(self, operation: str) -> list[str]:
        return [name for name, role in self.roles.items() if operation in role.may]

    def default_role(self, operation: str) -> str:
        """The role the local CLI acts in when none is chosen: a catalogue command's own
        role, else the first role (in STAFF_ROLES order) that may run the operation."""
        spec = BY_NAME.get(operation)
        if spec is not None:
            return spec.role
        allowed = self.roles_for(operation)
        return next((r for r in STAFF_ROLES if r in allowed), "admin")


def parse_matrix(text: str) -> Matrix:
    """The matrix from TOML text; an unknown role or operation is refused (ValueError)."""
    data = tomllib.loads(text)
    operations = {spec.name: spec.label for spec in CATALOGUE}
    operations.update(data.get("operations", {}))
    roles: dict[str, Role] = {}
    for name, body in data.get("roles", {}).items():
        if name not in STAFF_ROLES:
            raise ValueError(f"unknown role {name!r} in the permission matrix")
        may = frozenset(body.get("may", ()))
        unknown = sorted(may - operations.keys())
        if unknown:
            raise ValueError(f"role {name}: unknown operations {unknown}")
        roles[name] = Role(name, may)
    missing = sorted(STAFF_ROLES.keys() - roles.keys())
    if missing:
        raise ValueError(f"roles missing from the permission matrix: {missing}")
    return Matrix(operations, roles)


@cache
def matrix() -> Matrix:
    """The packaged matrix (read once)."""
    return parse_matrix(resources.files("domain.access").joinpath(MATRIX_FILE)
                        .read_text(encoding="utf-8"))
