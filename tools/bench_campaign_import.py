"""Contact import at scale: `python -m tools.bench campaign_import [--rows N] [--json]`.

Generates a contact CSV of N rows (default 100,000) and a tenth of it, imports each into a
throwaway SQLite store in its own process (so each peak RSS is that import's), and prints
rows, wall seconds, rows per second and peak RSS for both, with the ratio of the peaks:
bounded memory means the large file costs about what the small one does, not ten times.
Every commit here is an fsync, so the figures measure the disk too; the load is printed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("姓名,电话,到账金额,区县\n")
        for i in range(rows):
            out.write(f"市民{i},13{i % 10}{i:08d},{i % 5000},甬江区\n")


def child(rows: int) -> dict[str, Any]:
    """One import in this process: the store, the file, the figures."""
    from datetime import UTC, datetime

    from adapters.bootstrap import build_engine
    from adapters.campaigns import desk
    from domain.values import Actor

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        write_file(path, rows)
        os.environ["REXIAN_KEK_FILE"] = str(Path(tmp) / "bench.kek")
        clock = lambda: datetime(2025, 9, 30, 2, 0, tzinfo=UTC)  # noqa: E731
        engine = build_engine(str(Path(tmp) / "bench.db"), clock=clock,
                              kek_file=os.environ["REXIAN_KEK_FILE"])
        campaigns = desk(engine)
        actor = Actor("dispatcher", "bench")
        ref = campaigns.execute("create_campaign", actor=actor, kind="notification",
                                name="bench", message="m")["campaign_id"]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        result = campaigns.execute("import_contacts", ref, actor=actor, file=path)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        engine.close()
    return {"rows": result["imported"], "wall_s": round(wall, 2),
            "rows_per_s": round(result["imported"] / wall), "rss_before_mb": round(before / 1024, 1),
            "peak_rss_mb": round(peak / 1024, 1)}


def run(argv: list[str]) -> dict[str, Any]:
    rows = int(argv[argv.index("--rows") + 1]) if "--rows" in argv else 100_000
    sizes = {"small": max(rows // 10, 1), "large": rows}
    result: dict[str, Any] = {}
    for label, n in sizes.items():
        out = subprocess.run([sys.executable, "-m", "tools.bench_campaign_import", "--child",
                              str(n)], check=True, capture_output=True, text=True)
        result[label] = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_ratio"] = {"large_over_small": round(
        result["large"]["peak_rss_mb"] / result["small"]["peak_rss_mb"], 2)}
    result["load"] = {"loadavg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(int(sys.argv[2]))))
    else:
        print(json.dumps(run(sys.argv[1:]), ensure_ascii=False))
