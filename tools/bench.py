"""Benchmark dispatcher: `python -m tools.bench NAME [args...] [--json]`.

Each benchmark lives in `tools/bench_<NAME>.py` and exposes
`run(argv: list[str]) -> dict`. With `--json` the result is printed as one JSON
document; otherwise as a readable table. An unknown NAME exits with status 2.

Run from the repository root (some benchmarks import `tests.support`).
Among them: `cli` (tools/bench_cli.py), the start-up time of `rexian show T` and
`rexian --help` against `python -c pass`, with the load average; `campaign`
(tools/bench_campaign.py), a survey campaign against simulated citizens over loopback WebRTC.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

USAGE = "usage: python -m tools.bench NAME [args...] [--json]"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def available() -> list[str]:
    """Names of the benchmarks next to this file (tools/bench_<name>.py)."""
    here = Path(__file__).resolve().parent
    return sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))


def load(name: str) -> Callable[[list[str]], dict[str, Any]] | None:
    """The benchmark's `run` function, or None if there is no such benchmark."""
    if not _NAME.match(name):
        return None
    module_name = f"{__package__ or 'tools'}.bench_{name}"
    if importlib.util.find_spec(module_name) is None:
        return None
    module = importlib.import_module(module_name)
    run = getattr(module, "run", None)
    return run if callable(run) else None


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def render(result: Any) -> str:
    """A readable table: one row per sub-result (dict of dicts, or list of dicts)."""
    rows: list[tuple[str, dict[str, Any]]]
    if isinstance(result, dict) and result and all(isinstance(v, dict) for v in result.values()):
        rows = [(str(k), v) for k, v in result.items()]
    elif isinstance(result, list) and all(isinstance(v, dict) for v in result):
        rows = [(str(i), v) for i, v in enumerate(result)]
    elif isinstance(result, dict):
        width = max((len(str(k)) for k in result), default=0)
        return "\n".join(f"{str(k).ljust(width)}  {_cell(v)}" for k, v in result.items())
    else:
        return _cell(result)
    columns: list[str] = []
    for _, row in rows:
        columns += [k for k in row if k not in columns]
    table = [["", *columns]] + [[label, *(_cell(row.get(c)) for c in columns)]
                               for label, row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
             for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        print("benchmarks: " + (", ".join(available()) or "(none)"))
        return 0 if args else 2
    name, rest = args[0], args[1:]
    run = load(name)
    if run is None:
        print(f"unknown benchmark {name!r}; available: {', '.join(available()) or '(none)'}",
              file=sys.stderr)
        print(USAGE, file=sys.stderr)
        return 2
    result = run(rest)
    print(json.dumps(result, ensure_ascii=False) if as_json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
