"""docs/commands.md, generated from the command catalogue (`make docs`).

    python -m tools.commands_doc > docs/commands.md
"""

from __future__ import annotations

from pathlib import Path

from domain.commands import CATALOGUE, Field

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "commands.md"
COMMAND = "python -m tools.commands_doc > docs/commands.md"
KINDS = {"text": "文本", "texts": "文本（可多个）", "int": "整数", "instant": "时间（ISO 8601）",
         "flag": "开关", "file": "文件"}


def _field(field: Field) -> str:
    optional = "" if field.required else (
        f"，可选（默认“{field.default}”）" if field.default else "，可选")
    masked = "，个人信息脱敏" if field.free_text else ""
    return (f"`--{field.name.replace('_', '-')}` {field.label}"
            f"（{KINDS[field.kind]}{optional}{masked}）")


def render() -> str:
    lines = [
        "# 工单命令 / Work-order commands",
        "",
        f"Generated from `domain/commands.py` by `{COMMAND}`; do not edit.",
        "Every command is one catalogue entry: the CLI command, the TicketService RPC",
        "(`proto/rexian/ticket/v1`), the `--grpc` client and this page come from it.",
        "个人信息脱敏 (free text): phones, 身份证, bank cards and e-mails in it are masked when",
        "recorded and sealed for the caller (rules in `domain/pii.py`); a logged reveal shows them.",
        "",
        "| 命令 | CLI | gRPC | 默认操作人 | 参数 | 说明 |",
        "|---|---|---|---|---|---|",
    ]
    for spec in CATALOGUE:
        actor = f"{spec.role}:{'（办理单位）' if spec.actor_id == '{dept}' else spec.actor_id}"
        args = ([] if not spec.ticket else ["`TICKET` 工单号"]) + [_field(f) for f in spec.fields]
        lines.append(f"| {spec.label} | `rexian {spec.cli}` | `TicketService.{spec.rpc}` | "
                     f"{actor} | {'；'.join(args)} | {spec.summary} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
