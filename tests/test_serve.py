"""`rexian serve`: one process runs gRPC, the deadline ticker and (with --kafka) the relay."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from kafka import KafkaConsumer

from tests.support.kafka import TansuBroker
from tests.support.procs import PythonProcess

REPO = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=60)


def staff_token(db: Path) -> str:
    """A token for the remote commands below, issued into the store the server opens."""
    issued = cli("--db", str(db), "token", "issue", "--role", "agent", "--role", "dispatcher",
                 "--id", "serve-test", "--json")
    assert issued.returncode == 0, issued.stderr
    token: str = json.loads(issued.stdout)["token"]
    return token


def start_serve(db: Path, *extra: str) -> tuple[PythonProcess, str]:
    proc = PythonProcess("tools.cli", "--db", str(db), "serve", "--grpc", "127.0.0.1:0",
                         "--interval", "0.2", *extra, cwd=str(REPO))
    line = proc.wait_for_line(r"^gRPC: 127\.0\.0\.1:\d+", timeout=30)
    address = re.search(r"127\.0\.0\.1:\d+", line)
    assert address is not None
    return proc, address.group(0)


def stop(proc: PythonProcess) -> int:
    os.killpg(proc.pid, signal.SIGTERM)
    code = proc.proc.wait(timeout=30)
    return code


def test_serve_takes_commands_over_grpc_and_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "rexian.db"
    token = staff_token(db)
    proc, address = start_serve(db)
    try:
        assert f"data: sqlite:{db}" in proc.output()
        made = cli("--grpc", address, "--token", token, "intake", "--channel", "电话", "--category", "投诉",
                   "--region", "甬江区", "--caller-name", "张三", "--caller-phone",
                   "13800138000", "--content", "路灯不亮", "--json")
        assert made.returncode == 0, made.stderr
        ticket = json.loads(made.stdout)["ticket_no"]
        sent = cli("--grpc", address, "--token", token, "dispatch", ticket, "--dept", "区城管局", "--json")
        assert json.loads(sent.stdout)["state"] == "已派单"
    finally:
        code = stop(proc)
    assert code == 0 and "stopped cleanly" in proc.output()
    # Nothing lost: the store on disk has the order as the server left it.
    shown = cli("--db", str(db), "show", ticket, "--json")
    assert json.loads(shown.stdout)["state"] == "已派单"
    assert cli("--db", str(db), "verify").returncode == 0


def test_serve_with_kafka_relays_every_event(tmp_path: Path,
                                             kafka_broker: TansuBroker) -> None:
    db = tmp_path / "rexian.db"
    token = staff_token(db)
    proc, address = start_serve(db, "--kafka", kafka_broker.bootstrap)
    try:
        made = cli("--grpc", address, "--token", token, "intake", "--channel", "微信", "--category", "咨询",
                   "--region", "甬江区", "--caller-name", "李四", "--caller-phone",
                   "13900139000", "--content", "社保卡补办", "--json")
        ticket = json.loads(made.stdout)["ticket_no"]
        assert cli("--grpc", address, "--token", token, "answer", ticket, "--reply", "可在线补办").returncode == 0
    finally:
        assert stop(proc) == 0
    consumer = KafkaConsumer("rexian.workorder.events", bootstrap_servers=kafka_broker.bootstrap,
                             group_id=f"serve-{tmp_path.name}", auto_offset_reset="earliest",
                             session_timeout_ms=6000, heartbeat_interval_ms=1000)
    types: set[str] = set()
    deadline = time.monotonic() + 45
    try:
        # Poll until both events arrive (group join alone takes seconds on Tansu).
        while not {"Registered", "Answered"} <= types and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                types |= {dict(m.headers)["event-type"].decode() for m in records
                          if m.key.decode() == ticket}
    finally:
        consumer.close()
    # Both events left over Kafka, the last one while `serve` was shutting down.
    assert {"Registered", "Answered"} <= types
