"""Campaign progress and results (issue 10 item 6) on the real engine: the counters of
`campaign status`, the flagged numbers (`campaign flags`, CSV/XLSX), exports masked unless
a role that may reveal gives a reason (logged in the access log), the live terminal view
(a real pty), the WatchCampaign stream on a real gRPC server with real tokens, and the
remote CLI over it."""

from __future__ import annotations

import csv
import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from openpyxl import load_workbook

from adapters.bootstrap import Engine
from adapters.campaigns import FLAGS_HEADER, CampaignDesk, desk
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2 as pb
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2_grpc as pb_grpc
from domain.values import Actor
from tests.conftest import SimClock
from tests.test_campaign_service import Gateway
from tests.test_cli import REPO, SCRIPT, refused, rexian
from tests.test_grpc_support import CITY, WATER, dept_token, grant, md, start

CENTRE = Actor("dispatcher", "centre")
NOW = "2025-09-30T09:00:00+08:00"  # the `clock` fixture's instant
PEOPLE = [("张三", "13800138001"), ("李四", "13800138002"), ("王五", "0574-88888803"),
          ("赵六", "13800138004")]
OUTCOMES = ("已接通", "空号", "停机", "忙")
DETAILS = ("SIP 200", "SIP 404 Not Found", "carrier announcement: 已停机", "SIP 486 Busy Here")
PUBLISHER = WATER  # the unit that published the contact list
DISPATCHER_TOKEN = "rx1_" + "d" * 43
SUPERVISOR_TOKEN = "rx1_" + "s" * 43
AGENT_TOKEN = "rx1_" + "a" * 43


def people_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("姓名,电话\n" + "".join(f"{n},{p}\n" for n, p in PEOPLE), encoding="utf-8")
    return path


def called(engine: Engine, tmp_path: Path) -> tuple[CampaignDesk, str]:
    """Four contacts dialled once: 已接通, 空号 (flagged), 停机 (flagged), 忙 (retry)."""
    campaigns = desk(engine)
    ref = campaigns.execute("create_campaign", actor=CENTRE, kind="notification",
                            name="社保缴费到账通知", message="您的社保缴费已到账",
                            dept=PUBLISHER)["campaign_id"]
    campaigns.execute("import_contacts", ref, actor=CENTRE, file=people_file(tmp_path))
    campaigns.execute("start_campaign", ref, actor=CENTRE)
    gateway = Gateway()
    campaigns.tick(gateway)
    for (who, call), outcome, detail in zip(gateway.calls, OUTCOMES, DETAILS, strict=True):
        campaigns.service.record_outcome(who, call_id=call, outcome=outcome, detail=detail)
    return campaigns, ref


def test_status_counts(sqlite_engine: Engine, clock: SimClock, tmp_path: Path) -> None:
    campaigns, ref = called(sqlite_engine, tmp_path)
    status = campaigns.execute("campaign_status", ref, actor=CENTRE)
    assert {k: status[k] for k in ("state", "contacts", "dialled", "contacts_dialled",
                                   "connected", "reached", "answered", "completed",
                                   "pending_retries", "flags", "outcomes", "answers")} == {
        "state": "进行中", "contacts": 4, "dialled": 4, "contacts_dialled": 4, "connected": 1,
        "reached": 1, "answered": 0, "completed": 3, "pending_retries": 1,
        "flags": {"空号": 1, "停机": 1},
        "outcomes": {"已接通": 1, "空号": 1, "停机": 1, "忙": 1}, "answers": {}}
    assert status["connect_rate"] == 0.25 and status["dept"] == PUBLISHER


def test_flags_listed_masked_and_written(sqlite_engine: Engine, clock: SimClock,
                                         tmp_path: Path) -> None:
    campaigns, ref = called(sqlite_engine, tmp_path)
    listed = campaigns.execute("campaign_flags", ref, actor=CENTRE)
    assert listed["flags"] == {"空号": 1, "停机": 1} and listed["revealed"] is False
    assert listed["dept"] == PUBLISHER
    assert [(n["number"], n["name"], n["phone"], n["flag"], n["attempts"], n["detail"])
            for n in listed["numbers"]] == [
        (2, "李*", "138****8002", "空号", 1, "SIP 404 Not Found"),
        (3, "王*", "0574****8803", "停机", 1, "carrier announcement: 已停机")]
    assert "file" not in listed
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"flags.{suffix}"
        written = campaigns.execute("campaign_flags", ref, actor=CENTRE, csv=out)
        assert written["exported"] == 2 and written["file"] == str(out)
        rows = (list(csv.reader(out.open(encoding="utf-8-sig"))) if suffix == "csv" else
                [list(r) for r in load_workbook(out).active.iter_rows(values_only=True)])
        assert tuple(rows[0]) == FLAGS_HEADER
        assert [r[3] for r in rows[1:]] == ["138****8002", "0574****8803"]
        assert "13800138002" not in repr(rows) and "李四" not in repr(rows)


def test_reveal_needs_the_role_and_a_reason_and_is_logged(sqlite_engine: Engine,
                                                          clock: SimClock,
                                                          tmp_path: Path) -> None:
    _, ref = called(sqlite_engine, tmp_path)
    db = str(tmp_path / "rexian.db")
    masked = json.loads(rexian(db, "campaign", "flags", ref, "--json", now=NOW).stdout)
    assert [n["phone"] for n in masked["numbers"]] == ["138****8002", "0574****8803"]
    # A dispatcher may not reveal; a supervisor may, with a reason.
    assert "无权" in refused(db, NOW, "campaign", "flags", ref, "--reveal", "--reason", "核对")
    assert "reason" in refused(db, NOW, "--role", "supervisor", "campaign", "flags", ref,
                               "--reveal")
    out = tmp_path / "flags.csv"
    done = rexian(db, "--role", "supervisor", "campaign", "flags", ref, "--reveal", "--reason",
                  "区人社局核对空号名单", "--csv", str(out), "--json", now=NOW)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["revealed"] is True
    assert [(n["name"], n["phone"]) for n in body["numbers"]] == [("李四", "13800138002"),
                                                                  ("王五", "057488888803")]
    assert "13800138002" in out.read_text(encoding="utf-8-sig")
    export = tmp_path / "all.xlsx"
    done = rexian(db, "--role", "supervisor", "campaign", "export", ref, str(export),
                  "--reveal", "--reason", "复核外呼结果", "--json", now=NOW)
    assert done.returncode == 0, done.stderr
    rows = [list(r) for r in load_workbook(export).active.iter_rows(values_only=True)]
    assert [r[2:4] for r in rows[1:]] == [list(p) for p in
                                          [("张三", "13800138001"), ("李四", "13800138002"),
                                           ("王五", "057488888803"), ("赵六", "13800138004")]]
    log = sqlite_engine.access_entries(datetime(2025, 1, 1).astimezone())
    reveals = [e for e in log if e["action"] == "reveal"]
    assert [(e["target_kind"], e["target"], e["reason"], e["actor_role"]) for e in reveals] == [
        ("campaign", ref, "区人社局核对空号名单", "supervisor"),
        ("campaign", ref, "复核外呼结果", "supervisor")]
    assert sum(e["action"] == "refused" and e["operation"] == "reveal" for e in log) == 2


def test_bad_input_exits_2(sqlite_engine: Engine, clock: SimClock, tmp_path: Path) -> None:
    _, ref = called(sqlite_engine, tmp_path)
    db = str(tmp_path / "rexian.db")
    assert ".csv" in refused(db, NOW, "campaign", "flags", ref, "--csv", str(tmp_path / "x.txt"))
    refused(db, NOW, "campaign", "flags", "CP20250930AAAAAA")
    assert "不存在的局" in refused(db, NOW, "campaign", "create", "--kind", "broadcast",
                                "--name", "x", "--message", "m", "--dept", "不存在的局")
    # A local user in the department role is no unit's token: refused, and logged.
    assert "发布" in refused(db, NOW, "--role", "department", "campaign", "flags", ref)
    refused(db, NOW, "campaign", "status", "CP20250930AAAAAA", "--once")


# ----- the live view ------------------------------------------------------------------------
@contextmanager
def terminal(args: list[str]) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The CLI with its stdout on a pseudo-terminal (what people see, read by `output`);
    killed if still running at the end, and never a traceback on stderr."""
    master, slave = pty.openpty()
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tools.cli"]
    process = subprocess.Popen([*command, *args], stdout=slave, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=cli_env(), cwd=REPO)
    os.close(slave)
    try:
        yield process, master
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    assert process.stderr is not None and "Traceback" not in process.stderr.read().decode()


def output(master: int, until: str, timeout: float = 30.0) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while until.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed: the process is gone
                break
            if not chunk:
                break
            seen += chunk
    return seen.decode("utf-8", "replace")


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REXIAN_") or k == "REXIAN_KEK_FILE"}
    env.update(PYTHONPATH=str(REPO), REXIAN_SIMULATION="1", COLUMNS="120")
    return env


def test_status_redraws_live_until_the_campaign_ends(sqlite_engine: Engine, clock: SimClock,
                                                     tmp_path: Path) -> None:
    campaigns, ref = called(sqlite_engine, tmp_path)
    db = str(tmp_path / "rexian.db")
    first = watch_until_cancelled(campaigns, ref, ["--db", db, "--now", NOW, "campaign",
                                                   "status", ref, "--interval", "0.2"])
    assert "进行中" in first and "接通率 25.0%" in first and "空号 1" in first


def watch_until_cancelled(campaigns: CampaignDesk, ref: str, args: list[str]) -> str:
    """`campaign status` on a terminal: it draws, keeps watching while the campaign runs,
    redraws 已取消 when it is cancelled and exits 0. Returns the first drawing."""
    with terminal(args) as (process, master):
        first = output(master, "待重试")
        assert "待重试" in first and process.poll() is None  # still watching
        campaigns.execute("cancel_campaign", ref, actor=CENTRE, reason="政策调整")
        assert "已取消" in output(master, "已取消")
        assert process.wait(timeout=30) == 0
    return first


def test_ctrl_c_ends_the_live_view(sqlite_engine: Engine, clock: SimClock,
                                   tmp_path: Path) -> None:
    _, ref = called(sqlite_engine, tmp_path)
    with terminal(["--db", str(tmp_path / "rexian.db"), "--now", NOW, "campaign", "status",
                   ref]) as (process, master):
        assert "待重试" in output(master, "待重试")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_once_prints_one_view(sqlite_engine: Engine, clock: SimClock, tmp_path: Path) -> None:
    _, ref = called(sqlite_engine, tmp_path)
    with terminal(["--db", str(tmp_path / "rexian.db"), "--now", NOW, "campaign", "status",
                   ref, "--once"]) as (process, master):
        assert process.wait(timeout=60) == 0
        text = output(master, "待重试", timeout=5)
    assert "社保缴费到账通知" in text and "待重试" in text


# ----- gRPC: WatchCampaign and the remote CLI -------------------------------------------------
class Watcher:
    """Reads a WatchCampaign stream in a thread."""

    def __init__(self, stub: pb_grpc.CampaignServiceStub, ref: str, token: str) -> None:
        self.call: Any = stub.WatchCampaign(pb.WatchCampaignRequest(campaign_id=ref),
                                            metadata=md(token))
        self.seen: list[pb.CampaignProgress] = []
        self.error: grpc.RpcError | None = None
        self.done = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for message in self.call:
                self.seen.append(message.progress)
        except grpc.RpcError as error:
            self.error = error
        self.done.set()

    def wait_for(self, test: Any, timeout: float = 15.0) -> pb.CampaignProgress:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.seen and test(self.seen[-1]):
                return self.seen[-1]
            time.sleep(0.05)
        raise AssertionError(f"no matching progress in {self.seen}")


@pytest.fixture
def served(sqlite_engine: Engine) -> Iterator[Any]:
    running = start(sqlite_engine)
    grant(sqlite_engine, DISPATCHER_TOKEN, ("dispatcher",), "D01")
    grant(sqlite_engine, SUPERVISOR_TOKEN, ("supervisor",), "S01")
    grant(sqlite_engine, AGENT_TOKEN, ("agent",), "A01")
    yield running
    running.close()


def test_watch_campaign_streams_each_change(served: Any, clock: SimClock,
                                            tmp_path: Path) -> None:
    engine: Engine = served.engine
    campaigns, ref = called(engine, tmp_path)
    stub = pb_grpc.CampaignServiceStub(served.channel)
    watcher = Watcher(stub, ref, DISPATCHER_TOKEN)
    first = watcher.wait_for(lambda p: True)
    assert (first.state, first.dialled, first.pending_retries, dict(first.flags)) == (
        "进行中", 4, 1, {"空号": 1.0, "停机": 1.0})
    assert first.reached == 1 and first.connect_rate == 0.25
    clock.advance(minutes=11)  # the busy number's retry is due
    gateway = Gateway()
    campaigns.tick(gateway)
    assert watcher.wait_for(lambda p: p.in_progress == 1).dialled == 5
    (who, call), = gateway.calls
    campaigns.service.record_outcome(who, call_id=call, outcome="已接通", detail="SIP 200")
    assert watcher.wait_for(lambda p: p.reached == 2).completed == 4
    campaigns.tick(gateway)  # nobody open: 已完成, and the stream ends
    watcher.done.wait(15)
    assert watcher.error is None and watcher.seen[-1].state == "已完成"
    assert len(watcher.seen) == len({m.SerializeToString() for m in watcher.seen})  # changes only
    # The same refusals as the other campaign RPCs.
    for token, code in ((None, grpc.StatusCode.UNAUTHENTICATED),
                        (AGENT_TOKEN, grpc.StatusCode.PERMISSION_DENIED),
                        (dept_token(engine, WATER), grpc.StatusCode.PERMISSION_DENIED)):
        with pytest.raises(grpc.RpcError) as refusal:
            list(stub.WatchCampaign(pb.WatchCampaignRequest(campaign_id=ref),
                                    metadata=md(token), timeout=10))
        assert refusal.value.code() == code
    with pytest.raises(grpc.RpcError) as unknown:
        list(stub.WatchCampaign(pb.WatchCampaignRequest(campaign_id="CP20250930AAAAAA"),
                                metadata=md(DISPATCHER_TOKEN), timeout=10))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


def test_the_remote_watch_ends_when_its_watcher_goes(served: Any, clock: SimClock,
                                                     tmp_path: Path) -> None:
    """`campaign status --grpc` on a terminal: Ctrl-C raises the flag that `stop` reads,
    and the stream, which would wait for the next change, is cancelled without an error."""
    from adapters.grpc.campaign_client import RemoteCampaignDesk
    from adapters.grpc.client import Calls

    _, ref = called(served.engine, tmp_path)
    desk = RemoteCampaignDesk(served.channel, Calls(served.channel, DISPATCHER_TOKEN, 10))
    gone: list[bool] = []
    updates = desk.watch(ref, stop=lambda seconds: bool(gone) or time.sleep(seconds) or False)
    assert next(updates)["state"] == "进行中"
    began = time.monotonic()
    gone.append(True)  # nothing changes any more: only the flag can end the stream
    assert list(updates) == []
    assert time.monotonic() - began < 5


def test_a_cancelled_watch_frees_the_server(served: Any, clock: SimClock,
                                           tmp_path: Path) -> None:
    _, ref = called(served.engine, tmp_path)
    stub = pb_grpc.CampaignServiceStub(served.channel)
    watchers = [Watcher(stub, ref, DISPATCHER_TOKEN) for _ in range(3)]
    for watcher in watchers:
        watcher.wait_for(lambda p: True)
        watcher.call.cancel()
        assert watcher.done.wait(10)
    status = stub.GetCampaignStatus(pb.GetCampaignStatusRequest(campaign_id=ref),
                                    metadata=md(DISPATCHER_TOKEN), timeout=10)
    assert status.progress.contacts == 4


def test_flags_and_export_over_grpc(served: Any, clock: SimClock, tmp_path: Path) -> None:
    _, ref = called(served.engine, tmp_path)
    stub = pb_grpc.CampaignServiceStub(served.channel)
    listed = stub.ListCampaignFlags(pb.ListCampaignFlagsRequest(campaign_id=ref, csv_name="f.csv"),
                                    metadata=md(DISPATCHER_TOKEN), timeout=10)
    assert [n.phone for n in listed.numbers] == ["138****8002", "0574****8803"]
    assert listed.exported == 2 and "138****8002" in listed.content.decode("utf-8-sig")
    with pytest.raises(grpc.RpcError) as refusal:
        stub.ListCampaignFlags(pb.ListCampaignFlagsRequest(campaign_id=ref, reveal=True,
                                                           reason="核对"),
                               metadata=md(DISPATCHER_TOKEN), timeout=10)
    assert refusal.value.code() == grpc.StatusCode.PERMISSION_DENIED
    revealed = stub.ExportCampaign(pb.ExportCampaignRequest(
        campaign_id=ref, file_name="o.csv", reveal=True, reason="复核"),
        metadata=md(SUPERVISOR_TOKEN), timeout=10)
    assert revealed.revealed and "13800138002" in revealed.content.decode("utf-8-sig")
    reveals = [e for e in served.engine.access_entries(datetime(2025, 1, 1).astimezone())
               if e["action"] == "reveal"]
    assert [(e["target"], e["actor_id"]) for e in reveals] == [(ref, "S01")]


def test_the_publishing_unit_lists_its_flags(served: Any, clock: SimClock,
                                             tmp_path: Path) -> None:
    _, ref = called(served.engine, tmp_path)
    stub = pb_grpc.CampaignServiceStub(served.channel)
    own = md(dept_token(served.engine, PUBLISHER))
    listed = stub.ListCampaignFlags(pb.ListCampaignFlagsRequest(campaign_id=ref, csv_name="f.xlsx"),
                                    metadata=own, timeout=10)
    assert (listed.dept, [n.phone for n in listed.numbers]) == (
        PUBLISHER, ["138****8002", "0574****8803"])
    assert listed.content.startswith(b"PK")  # the XLSX file
    for metadata, request in (
            (md(dept_token(served.engine, CITY)), pb.ListCampaignFlagsRequest(campaign_id=ref)),
            (own, pb.ListCampaignFlagsRequest(campaign_id=ref, reveal=True, reason="核对"))):
        with pytest.raises(grpc.RpcError) as refusal:
            stub.ListCampaignFlags(request, metadata=metadata, timeout=10)
        assert refusal.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as centre_only:
        stub.GetCampaignStatus(pb.GetCampaignStatusRequest(campaign_id=ref), metadata=own,
                               timeout=10)
    assert centre_only.value.code() == grpc.StatusCode.PERMISSION_DENIED
    log = served.engine.access_entries(datetime(2025, 1, 1).astimezone())
    assert [(e["actor_id"], e["operation"]) for e in log if e["action"] == "refused"] == [
        (CITY, "campaign_flags"), (PUBLISHER, "reveal"), (PUBLISHER, "campaign_status")]


def test_remote_cli(served: Any, clock: SimClock, tmp_path: Path) -> None:
    campaigns, ref = called(served.engine, tmp_path)
    remote = ["--grpc", f"127.0.0.1:{served.port}", "--token", DISPATCHER_TOKEN]
    status = json.loads(rexian(None, *remote, "campaign", "status", ref, "--json").stdout)
    assert {k: status[k] for k in ("state", "contacts", "dialled", "connected", "completed",
                                   "pending_retries", "flags")} == {
        "state": "进行中", "contacts": 4, "dialled": 4, "connected": 1, "completed": 3,
        "pending_retries": 1, "flags": {"空号": 1, "停机": 1}}
    out = tmp_path / "remote-flags.xlsx"
    done = rexian(None, *remote, "campaign", "flags", ref, "--csv", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert [n["phone"] for n in json.loads(done.stdout)["numbers"]] == ["138****8002",
                                                                        "0574****8803"]
    rows = [list(r) for r in load_workbook(out).active.iter_rows(values_only=True)]
    assert tuple(rows[0]) == FLAGS_HEADER and rows[1][3] == "138****8002"
    assert "无权" in refused(None, None, *remote, "campaign", "flags", ref, "--reveal",
                           "--reason", "核对")
    # Live over the WatchCampaign stream, until the campaign ends.
    watch_until_cancelled(campaigns, ref, [*remote, "campaign", "status", ref])
    # Every other campaign command goes over CampaignService too (files as bytes).
    created = json.loads(rexian(None, *remote, "campaign", "create", "--kind", "broadcast",
                                "--name", "灵活就业补贴", "--message", "新补贴三天后生效",
                                "--json").stdout)
    other = created["campaign_id"]
    contacts = tmp_path / "remote.csv"
    contacts.write_text("姓名,电话\n周七,13900139007\n错号,12\n", encoding="utf-8")
    assert "第 3 行" in refused(None, None, *remote, "campaign", "import", other, str(contacts))
    done = rexian(None, *remote, "campaign", "import", other, str(contacts), "--skip-invalid",
                  "--json")
    assert json.loads(done.stdout)["imported"] == 1, done.stderr
    export = tmp_path / "remote-export.csv"
    done = rexian(None, *remote, "campaign", "export", other, str(export), "--json")
    assert json.loads(done.stdout)["exported"] == 1, done.stderr
    assert "139****9007" in export.read_text(encoding="utf-8-sig")


def test_retry_pending_is_counted_until_due(sqlite_engine: Engine, clock: SimClock,
                                            tmp_path: Path) -> None:
    campaigns, ref = called(sqlite_engine, tmp_path)
    clock.advance(minutes=9)
    assert campaigns.tick(Gateway())["dialled"] == 0  # busy: retried after 10 minutes
    assert campaigns.execute("campaign_status", ref, actor=CENTRE)["pending_retries"] == 1
    clock.now += timedelta(minutes=1)
    assert campaigns.tick(Gateway())["dialled"] == 1
    assert campaigns.execute("campaign_status", ref, actor=CENTRE)["pending_retries"] == 0
