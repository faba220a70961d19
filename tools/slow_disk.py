"""Benchmarks on a disk whose fsync costs milliseconds, on a machine whose disk is fast.

Group commit pays one fsync per batch where one-transaction-per-command pays one per
command, so what it buys depends on what a flush costs. This machine's disk flushes in
0.1-4 ms depending on the other work on it (issue 15 measured 260-3,700 fsync/s), cloud
block storage and disks without power-loss protection take 1-10 ms. To measure both sides
on such a disk here, a benchmark re-runs itself with ``tools/native/slow_fsync.c``
preloaded (LD_PRELOAD): every fsync / fdatasync of the process first sleeps the given time,
then flushes for real. Engine and baseline run in that same process, so both wait alike;
the benchmark's fsync probe measures the emulated rate in the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tools" / "native" / "slow_fsync.c"
DELAY_ENV = "REXIAN_FSYNC_DELAY_US"


class SlowDiskUnavailable(RuntimeError):
    """The shim cannot be built here (no C compiler)."""


def shim() -> Path:
    """The shim's shared library, built once per source version under var/build/."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    library = ROOT / "var" / "build" / f"slow_fsync-{digest}.so"
    if library.is_file():
        return library
    library.parent.mkdir(parents=True, exist_ok=True)
    partial = library.with_suffix(".tmp")
    compiler = os.environ.get("CC", "cc")
    try:
        subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(SOURCE),
                        "-ldl"], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        raise SlowDiskUnavailable(
            f"无法编译慢盘模拟库 / cannot build the slow-disk shim with {compiler!r}: "
            f"{detail.strip()}") from None
    partial.replace(library)
    return library


def emulated_delay_ms() -> float | None:
    """The delay this process's fsyncs wait (None: the real disk)."""
    value = os.environ.get(DELAY_ENV)
    return None if value is None or "slow_fsync" not in os.environ.get("LD_PRELOAD", "") \
        else int(value) / 1000


def rerun(name: str, argv: list[str], delay_ms: float) -> dict[str, Any]:
    """`python -m tools.bench NAME ARGV --json` with every fsync delayed by `delay_ms`."""
    env = dict(os.environ, LD_PRELOAD=str(shim()), **{DELAY_ENV: str(round(delay_ms * 1000))})
    done = subprocess.run([sys.executable, "-m", "tools.bench", name, *argv, "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench {name} on the emulated disk failed ({done.returncode}): "
                           f"{done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
