"""CLI start-up: `rexian show T` and `rexian --help` against `python -c pass`.

`python -m tools.bench cli [--reps N] [--json]`. One throwaway SQLite store with one
dispatched order; every case runs as a fresh process (what a hotline script pays per
command), the cases interleaved rep by rep so a busy moment slows all of them alike.
Reports medians and minimums in seconds, each median as a ratio to `python -c pass`, and
the load average before and after (the machine has 2 shared cores: read figures with it).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / ".venv" / "bin" / "rexian"
TARGET_SHOW_S = 0.25  # issue 9 item 7: `rexian show T` on SQLite, quiet machine


def _rexian() -> list[str]:
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tools.cli"]


def _env(tmp: str, simulation: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REXIAN_")}
    env["PYTHONPATH"] = str(REPO)
    # What an installed rexian pays: bytecode cached (an inherited PYTHONDONTWRITEBYTECODE
    # recompiled every module of the repo on every run, ~60 ms), in the throwaway
    # directory rather than the working tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
    env["COLUMNS"] = "120"
    env["REXIAN_KEK_FILE"] = str(Path(tmp) / "rexian.kek")  # the throwaway store's own KEK
    if simulation:
        env["REXIAN_SIMULATION"] = "1"
    return env


def _prepare(db: str) -> str:
    """One order, registered and dispatched, through the real console script."""
    env = _env(str(Path(db).parent), simulation=True)
    intake = subprocess.run(
        [*_rexian(), "--db", db, "--now", "2025-11-03T09:00", "intake", "--channel", "电话",
         "--category", "投诉", "--region", "甬江区东湖街道", "--caller-name", "张三",
         "--caller-phone", "13800138000", "--content", "小区夜间施工噪音扰民", "--json"],
        env=env, capture_output=True, text=True, check=True, cwd=REPO)
    ticket: str = json.loads(intake.stdout)["ticket_no"]
    subprocess.run([*_rexian(), "--db", db, "--now", "2025-11-03T10:00", "dispatch", ticket,
                    "--dept", "区城管局", "--assist", "东湖街道办事处"],
                   env=env, capture_output=True, check=True, cwd=REPO)
    return ticket


def _time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr[-500:]!r}")
    return elapsed


def run(argv: list[str]) -> dict[str, Any]:
    reps = 7
    if "--reps" in argv:
        reps = max(1, int(argv[argv.index("--reps") + 1]))
    with tempfile.TemporaryDirectory(prefix="rexian-bench-cli-") as tmp:
        db = str(Path(tmp) / "bench.db")
        ticket = _prepare(db)
        env = _env(tmp)
        cases = {
            "python_pass": [sys.executable, "-c", "pass"],
            "rexian_help": [*_rexian(), "--help"],
            "rexian_show": [*_rexian(), "--db", db, "show", ticket],
            "rexian_show_json": [*_rexian(), "--db", db, "show", ticket, "--json"],
        }
        load_before = os.getloadavg()
        for command in cases.values():  # warm the page cache and .pyc files
            _time(command, env)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(reps):
            for name, command in cases.items():
                samples[name].append(_time(command, env))
        load_after = os.getloadavg()
    base = statistics.median(samples["python_pass"])
    result: dict[str, Any] = {}
    for name, values in samples.items():
        median = statistics.median(values)
        result[name] = {"median_s": round(median, 4), "min_s": round(min(values), 4),
                        "max_s": round(max(values), 4),
                        "ratio_to_python": round(median / base, 1)}
    show = result["rexian_show"]["median_s"]
    result["summary"] = {
        "reps": reps, "store": "sqlite", "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "target_show_s": TARGET_SHOW_S, "show_meets_target": show <= TARGET_SHOW_S,
    }
    return result
