"""docs/campaign-commands.md, generated from the campaign catalogue (`make docs`).

    python -m tools.campaign_commands_doc > docs/campaign-commands.md
"""

from __future__ import annotations

from pathlib import Path

from domain.campaign.commands import CATALOGUE
from domain.commands import Field
from tools.commands_doc import _field

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "campaign-commands.md"
COMMAND = "python -m tools.campaign_commands_doc > docs/campaign-commands.md"


def _argument(field: Field) -> str:
    # A required file is positional on the CLI (tools/cli_campaign.py).
    return f"`FILE` {field.label}" if field.kind == "file" and field.required else _field(field)


def render() -> str:
    lines = [
        "# 外呼任务命令 / Campaign commands",
        "",
        f"Generated from `domain/campaign/commands.py` by `{COMMAND}`; do not edit.",
        "Every command is one catalogue entry: the CLI command, the CampaignService RPC",
        "(`proto/rexian/campaign/v1`) and this page come from it. The command name (first",
        "column, in backquotes) is what the permission matrix refers to.",
        "",
        "| 命令 | 名称 | CLI | gRPC | 默认操作人 | 参数 | 说明 |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in CATALOGUE:
        args = (["`ID` 外呼任务编号"] if spec.ticket else []) + [_argument(f) for f in spec.fields]
        lines.append(f"| {spec.label} | `{spec.name}` | `rexian campaign {spec.cli}` | "
                     f"`CampaignService.{spec.rpc}` | {spec.role}:{spec.actor_id} | "
                     f"{'；'.join(args) or '—'} | {spec.summary} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
