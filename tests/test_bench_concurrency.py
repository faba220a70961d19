"""bench concurrency on an emulated slower disk (tools/slow_disk.py): the shim really delays
every fsync of the re-run process, and engine and baseline both run on it."""

from __future__ import annotations

import pytest

from tools import bench_concurrency
from tools.slow_disk import emulated_delay_ms


def test_an_emulated_slow_disk_delays_every_fsync_of_both_sides() -> None:
    result = bench_concurrency.run(["--clients", "1,4", "--lifecycles", "8",
                                    "--fsync-delay-ms", "4"])
    assert result["fsync_delay_ms"] == 4.0
    assert result["fsync_per_s"] < 250  # each probe fsync slept 4 ms first
    assert emulated_delay_ms() is None  # only the re-run process was slowed
    for row in result["rows"]:
        assert row["same_payloads"] and row["commands"] == 40
        # One transaction per command cannot beat the emulated flush rate.
        assert row["baseline_commands_per_s"] < 250
    one, four = result["rows"]
    assert four["commands_per_transaction"] > one["commands_per_transaction"] == 1.0


@pytest.mark.parametrize("delay", ["0", "-1", "5000"])
def test_a_delay_out_of_range_is_refused(delay: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench_concurrency.run(["--fsync-delay-ms", delay])
    assert exit_.value.code == 2
