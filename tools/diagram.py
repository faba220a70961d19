"""Generate docs/lifecycle.md (Mermaid state diagram + command table) from the lifecycle machine.

`python -m tools.diagram > docs/lifecycle.md`; `--check` exits 1 when the committed file
is stale. The machine in domain/lifecycle.py is the only source of truth.
"""

from __future__ import annotations

import sys
from pathlib import Path

from transitions.extensions import HierarchicalGraphMachine

from domain import lifecycle as lc

DOC = Path(__file__).resolve().parent.parent / "docs" / "lifecycle.md"


def mermaid() -> str:
    machine = HierarchicalGraphMachine(**lc.MACHINE_KWARGS, graph_engine="mermaid",
                                       show_state_attributes=False)
    text = machine.get_graph().draw(None)
    keep = []
    for line in text.splitlines():
        stripped = line.strip()
        # Drop styling (the "active state" colouring of a live model means nothing here).
        if stripped.startswith(("classDef", "Class ")):
            continue
        if "-->" in stripped and ": " in line:
            head, _, labels = line.partition(": ")
            line = head + ": " + " | ".join(_label(part) for part in labels.split(" | "))
        keep.append(line.rstrip())
    return "\n".join(keep).strip()


def _label(part: str) -> str:
    name, _, rest = part.strip().partition(" ")
    command = lc.COMMANDS.get(name)
    return f"{command.label} {rest}".strip() if command else part.strip()


def table() -> str:
    rows = ["| 状态 state | 命令 command | 结果 next state |", "|---|---|---|"]
    for (state, command), dest in sorted(lc.transition_table().items()):
        label = lc.COMMANDS[command].label
        internal = "（状态不变）" if dest == state else ""
        rows.append(f"| {state.replace(lc.SEPARATOR, '/')} | {label} `{command}` | "
                    f"{dest.replace(lc.SEPARATOR, '/')}{internal} |")
    return "\n".join(rows)


def render() -> str:
    return (
        "# 工单生命周期 Work-order lifecycle\n\n"
        "Generated from `domain/lifecycle.py` by `make diagram` (`python -m tools.diagram`); "
        "do not edit by hand. A test fails when this file is stale.\n\n"
        f"```mermaid\n{mermaid()}\n```\n\n"
        "## 命令与状态 Commands per state\n\n"
        f"{table()}\n"
    )


def stale(path: Path, text: str) -> bool:
    """True, with a hint on stderr, when the committed `path` is not `text`."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if current != text:
        print(f"{path} is stale: run `make diagram`", file=sys.stderr)
    return current != text


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        return int(stale(DOC, text))
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
