"""docs/permissions.md, generated from the permission matrix (`make docs`).

    python -m tools.permissions_doc > docs/permissions.md
"""

from __future__ import annotations

from pathlib import Path

from domain.access.permissions import matrix
from domain.access.roles import STAFF_ROLES

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"
COMMAND = "python -m tools.permissions_doc > docs/permissions.md"


def render() -> str:
    m = matrix()
    roles = list(STAFF_ROLES)
    lines = [
        "# 权限矩阵 / Permission matrix",
        "",
        f"Generated from `domain/access/permissions.toml` by `{COMMAND}`; do not edit.",
        "Every gRPC call is authenticated by a token (`rexian token issue`); the local CLI acts",
        "as the OS user in `--role ROLE` (default: the column marked ◎, the command's own",
        "role). ✓ = allowed; anything else is refused (PERMISSION_DENIED / exit 2) and the",
        "refusal is recorded in the access log (`rexian audit reads`).",
        "",
        "| 操作 / operation | " + " | ".join(f"{STAFF_ROLES[r]} `{r}`" for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for operation, label in m.operations.items():
        default = m.default_role(operation)
        marks = ["◎" if r == default and m.allows(r, operation) else
                 "✓" if m.allows(r, operation) else "" for r in roles]
        lines.append(f"| {label} `{operation}` | " + " | ".join(marks) + " |")
    reveal = "、".join(f"{STAFF_ROLES[r]} `{r}`" for r in roles if m.may_reveal(r))
    lines += [
        "",
        f"Personal data unmasked (`show --reveal --reason`, GetTicket `reveal`): {reveal} only,",
        "with a reason, each reveal recorded in the access log. Everyone else sees masks.",
        "A department token is bound to its unit and works only on the department API, for",
        "that unit's orders.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
