"""What people see: the human output of the real `rexian` script (COLUMNS=120), remote
`tick` / `verify` over gRPC, anchors, help screens, and stored text that must not drive
the terminal. `--json` is covered by tests/test_cli.py and must not change.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from adapters.bootstrap import build_engine
from tests.conftest import SimClock
from tests.test_grpc_support import CENTRE_TOKEN, WATER, Running, running_fixture
from tools.cli import app
from tools.cli_render import history_view, order_panel, phone

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / ".venv" / "bin" / "rexian"
LEAD, OTHER, ASSIST = "区城管局", "区水务局", "区住建局"
INTAKE = ["intake", "--channel", "电话", "--category", "投诉", "--region", "甬江区东湖街道",
          "--caller-name", "张三", "--caller-phone", "13800138000"]


def rexian(db: str, *args: str, now: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tools.cli"]
    env = {k: v for k, v in os.environ.items()  # keeping the session's KEK
           if not k.startswith("REXIAN_") or k == "REXIAN_KEK_FILE"}
    env.update(PYTHONPATH=str(REPO), COLUMNS="120", REXIAN_SIMULATION="1")
    when = ["--now", now] if now else []
    return subprocess.run([*command, "--db", db, *when, *args], env=env, cwd=REPO,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)


def text(db: str, *args: str, code: int = 0, now: str | None = None) -> str:
    done = rexian(db, *args, now=now)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "\x1b" not in done.stdout  # piped: no colour codes, no cursor movement
    return done.stdout


def data(db: str, now: str, *args: str) -> Any:
    done = rexian(db, *args, "--json", now=now)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def lines_with(output: str, *words: str) -> list[str]:
    return [line for line in output.splitlines() if all(w in line for w in words)]


def test_show_history_list_departments_tick_verify_for_people(tmp_path: Path) -> None:
    db = str(tmp_path / "render.db")
    t = data(db, "2025-11-03T09:00", *INTAKE, "--content", "夜间施工噪音[bold]扰民[/]")[
        "ticket_no"]
    data(db, "2025-11-03T10:00", "dispatch", t, "--dept", OTHER)
    data(db, "2025-11-03T11:00", "return", t, "--dept", OTHER, "--reason", "不属于本单位职责")
    data(db, "2025-11-03T12:00", "redispatch", t, "--dept", LEAD, "--assist", ASSIST,
         "--reason", "改派城管")
    data(db, "2025-11-03T14:00", "sign", t, "--dept", LEAD)
    data(db, "2025-11-05T09:00", "extend", t, "--dept", LEAD, "--days", "3", "--reason", "需协调")
    data(db, "2025-11-05T10:00", "approve-extension", t, "--note", "同意")
    data(db, "2025-11-06T10:00", "resolve", t, "--dept", LEAD, "--reply", "已停工")
    data(db, "2025-11-07T10:00", "callback", t, "--result", "不满意", "--comment", "仍有噪音")

    # tick: a table of the steps it took (the deadline passed while the order was open).
    ticked = text(db, "tick", now="2025-11-27T10:00")
    assert lines_with(ticked, "通报", "1") and lines_with(ticked, "超期督办", "1")

    shown = text(db, "show", t, now="2025-11-27T10:00")
    assert lines_with(shown, f"工单 {t}")
    assert lines_with(shown, "状态", "办理中/处理中")
    assert lines_with(shown, "主办", LEAD) and lines_with(shown, "协办", ASSIST)
    assert lines_with(shown, "来电人", "张*", "138****8000") and "13800138000" not in shown
    assert lines_with(shown, "诉求", "夜间施工噪音[bold]扰民[/]")  # markup printed as written
    assert lines_with(shown, "办理期限", "2025-11-14 23:59", "超期")
    assert not lines_with(shown, "暂定")  # 2025 has its official arrangement
    assert lines_with(shown, f"{t}-DB01", "重办督办", LEAD, "回访不满意：仍有噪音")
    assert lines_with(shown, f"{t}-DB02", "超期督办", "区政府")
    assert lines_with(shown, OTHER, "不属于本单位职责", "2025-11-03 11:00")  # the return
    assert lines_with(shown, "3", "需协调", "批准 2025-11-05 10:00", "同意")  # the extension
    assert lines_with(shown, "临期提醒", "2025-11-27 10:00")  # a notice

    # history: per event who, when (Beijing), a Chinese description and the reason.
    told = text(db, "history", t, now="2025-11-27T10:00")
    assert lines_with(told, "v3", "2025-11-03 11:00:00", "退单 Returned")
    assert lines_with(told, f"department:{OTHER}", "区水务局 退回；理由：不属于本单位职责")
    assert lines_with(told, "改派给 区城管局，协办 区住建局")
    assert lines_with(told, "区城管局 申请延期 3 个工作日；理由：需协调")
    assert lines_with(told, "期限延至 2025-11-27 23:59；意见：同意")
    # The ladder instants are stored in UTC; people read Beijing time.
    assert lines_with(told, "v2", "2025-11-03 10:00:00", "派单 Dispatched")
    assert lines_with(told, "临期提醒：呼叫区城管局 0574-87000102")  # duty phone with its dash
    as_of = text(db, "history", t, "--as-of", "2025-11-05T09:30", now="2025-11-27T10:00")
    assert lines_with(as_of, "办理中/延期审批中", "截至 2025-11-05 09:30:00")
    assert "v7" not in as_of

    listed = text(db, "list", "--dept", ASSIST, now="2025-11-27T10:00")
    assert lines_with(listed, t, "办理中/处理中", "投诉", "一般", LEAD)
    assert lines_with(listed, f"协办：{ASSIST}")
    assert "（无）" in text(db, "list", "--state", "已归档", now="2025-11-27T10:00")

    units = text(db, "departments")
    assert lines_with(units, LEAD, "甬江区", "区政府", "0574-87000102")
    assert "057487000102" not in units

    # verify: OK with the whole head, ready to be published and checked later.
    report = data(db, "2025-11-27T10:00", "verify")
    checked = text(db, "verify")
    head = f"{report['ledger_position']}:{report['ledger_head']}"
    assert "完整性校验通过 / OK" in checked and head in checked
    assert "完整性校验通过 / OK" in text(db, "verify", "--anchor", head)


def test_anchors_bad_and_unknown_say_what_is_wrong(tmp_path: Path) -> None:
    db = str(tmp_path / "anchor.db")
    data(db, "2025-11-03T09:00", *INTAKE, "--content", "路灯不亮")
    for bad in ("²:" + "a" * 64, "1:" + "g" * 64, "1:abc", "x", "1:\x1b[2J"):
        done = rexian(db, "verify", "--anchor", bad)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert "POSITION:HASH" in done.stderr and "\x1b" not in done.stderr
    # A well-formed anchor the ledger does not have: the ledger's problem, position named.
    out = text(db, "verify", "--anchor", "999:" + "b" * 64, code=1)
    assert "None" not in out
    assert lines_with(out, "（账本 / ledger）", "anchor", "位置 999")
    assert "锚点位置 999 超出账本当前位置 1" in out
    out = text(db, "verify", "--anchor", "1:" + "c" * 64, code=1)
    assert "None" not in out and lines_with(out, "（账本 / ledger）", "位置 1")


def test_help_has_no_bool_noise() -> None:
    runner = CliRunner()
    for args in (["--help"], ["show", "--help"], ["verify", "--help"],
                 ["dispatch", "--help"], ["calendar", "import", "--help"]):
        result = runner.invoke(app, args, env={"COLUMNS": "120"})
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.output and "--help" in result.output
    dispatch = runner.invoke(app, ["dispatch", "--help"], env={"COLUMNS": "120"}).output
    assert "TICKET" in dispatch and lines_with(dispatch, "--dept", "TEXT")
    assert lines_with(runner.invoke(app, ["verify", "--help"], env={"COLUMNS": "120"}).output,
                      "--anchor", "POSITION:HASH")


def render(renderable: Any) -> str:
    out = io.StringIO()
    Console(file=out, width=120, force_terminal=True, color_system="standard",
            markup=False).print(renderable)
    return out.getvalue()


HOSTILE = "拒收\x1b[2J\x1b]0;pwned\x07[red]红[/red]\u202e反"


def test_stored_control_characters_and_markup_are_shown_not_obeyed() -> None:
    # The domain refuses such text today; older or tampered events may still carry it.
    event = {"version": 3, "type": "Returned", "at": "2025-11-03T03:00:00+00:00",
             "actor": {"role": "department", "id": "区水务局\x1b[31m"},
             "details": {"dept": "区水务局", "reason": HOSTILE}}
    view = {"ticket_no": "202511030001", "state": "已退回", "substate": None,
            "department": "区水务局", "content": HOSTILE, "returns": [
                {"dept": "区水务局", "reason": HOSTILE, "at": "2025-11-03T11:00:00+08:00"}]}
    for output in (render(history_view("202511030001", {"state": view, "events": [event]})),
                   render(order_panel(view))):
        # Our own styling may use SGR colour codes; nothing else from the text reaches the
        # terminal: no clear-screen, no title change, no bell, no bidi override.
        assert "\x1b[2J" not in output and "\x1b]" not in output and "\x07" not in output
        assert "\u202e" not in output
        assert re.sub(r"\x1b\[[0-9;]*m", "", output).count("\x1b") == 0
        assert "\\x1b[2J" in output and "[red]红[/red]" in output and "\\u202e" in output
    assert "2025-11-03 11:00:00" in render(history_view("t", {"state": view, "events": [event]}))


def test_duty_phone_format() -> None:
    assert phone("057487000001") == "0574-87000001"
    assert phone("01012345678") == "010-12345678"
    assert phone("13800138000") == "13800138000"
    assert phone("") == "—"


# ----- remote mode ---------------------------------------------------------------------------
@pytest.fixture
def running(tmp_path: Path, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield from running_fixture(engine)
    engine.close()


def test_remote_tick_and_verify(running: Running, clock: SimClock,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REXIAN_TOKEN", CENTRE_TOKEN)
    remote = ["--grpc", f"127.0.0.1:{running.port}"]
    runner = CliRunner()
    no = running.dispatched(WATER)
    clock.advance(days=40)  # far past the deadline: every ladder step is due

    result = runner.invoke(app, [*remote, "tick", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["level3"] == 1 and counts["warning"] == 1
    assert running.engine.service.show(no)["escalation_level"] == 3
    again = runner.invoke(app, [*remote, "tick"], env={"COLUMNS": "120"})
    assert again.exit_code == 0 and lines_with(again.stdout, "通报", "0")

    # Remote verify prints the anchor to publish, POSITION:HASH, as the server found it.
    checked = runner.invoke(app, [*remote, "verify"], env={"COLUMNS": "120"})
    assert checked.exit_code == 0, checked.output
    local = running.engine.verify().as_dict()
    assert f"{local['ledger_position']}:{local['ledger_head']}" in checked.stdout
    assert "?:" not in checked.stdout and "None" not in checked.stdout


def on_a_terminal(db: str, *args: str, now: str | None = None) -> str:
    """What `rexian` shows when stdout and stderr are a terminal (a pty)."""
    import pty

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items()  # keeping the session's KEK
           if not k.startswith("REXIAN_") or k == "REXIAN_KEK_FILE"}
    when = ["--now", now] if now else []
    done = subprocess.run([str(SCRIPT), "--db", db, *when, *args], stdin=follower,
                          stdout=follower, stderr=follower,
                          env={**env, "COLUMNS": "120", "REXIAN_SIMULATION": "1"}, timeout=60)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0, shown
    return shown.decode("utf-8", "replace")


def three_orders(db: str) -> None:
    for _ in range(3):
        created = rexian(db, *INTAKE, "--content", "噪音", now="2025-11-03T09:00")
        assert created.returncode == 0, created.stderr
        ticket = json.loads(rexian(db, "list", "--json").stdout)[-1]["ticket_no"]
        dispatched = rexian(db, "dispatch", ticket, "--dept", LEAD, now="2025-11-03T10:00")
        assert dispatched.returncode == 0, dispatched.stderr


def test_long_work_draws_a_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    """verify, tick and projection rebuilds: a bar on a terminal, none in a pipe."""
    db = str(tmp_path / "bar.db")
    three_orders(db)
    piped = rexian(db, "verify")
    assert piped.returncode == 0 and "verifying" not in piped.stderr  # no bar in a pipe
    assert "verifying" in on_a_terminal(db, "verify")
    piped = rexian(db, "projections", "rebuild", "tickets")
    assert piped.returncode == 0 and "rebuilding" not in piped.stderr
    assert "rebuilding" in on_a_terminal(db, "projections", "rebuild", "tickets")
    late = "2025-12-30T09:00"  # every order far overdue: three due orders
    assert "due steps" in on_a_terminal(db, "tick", now=late)
