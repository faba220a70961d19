"""The real `rexian` console script, run as a subprocess on SQLite and PostgreSQL.

Each invocation costs about half a second, so the suite is one long walk per store plus
a handful of error cases. Every command runs under the simulation clock (`--now`).
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / ".venv" / "bin" / "rexian"
LEAD, OTHER, ASSIST1, ASSIST2 = "区城管局", "区水务局", "区住建局", "区市场监管局"


def rexian(db: str | None, *args: str, now: str | None = None, simulation: bool = True,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tools.cli"]
    if db is not None:
        command += ["--db", db]
    if now is not None:
        command += ["--now", now]
    env = {k: v for k, v in os.environ.items()  # keeping the session's KEK
           if not k.startswith("REXIAN_") or k == "REXIAN_KEK_FILE"}
    env["PYTHONPATH"] = str(REPO)
    if simulation:
        env["REXIAN_SIMULATION"] = "1"
    return subprocess.run([*command, *args], env=env, cwd=cwd or REPO, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)


def ok(db: str, now: str, *args: str) -> Any:
    done = rexian(db, *args, "--json", now=now)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def refused(db: str | None, now: str | None, *args: str, **kw: Any) -> str:
    """Exit code 2 with a bilingual message on stderr and nothing on stdout."""
    done = rexian(db, *args, now=now, **kw)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    assert "错误 / error:" in done.stderr
    assert " / " in done.stderr.split("错误 / error:", 1)[1]
    return done.stderr


def state(view: dict[str, Any]) -> str:
    return view["state"] + (f"/{view['substate']}" if view["substate"] else "")


INTAKE = ["intake", "--channel", "电话", "--region", "甬江区东湖街道", "--caller-name", "张三",
          "--content", "小区门口路灯不亮"]


def test_whole_lifecycle_through_the_console_script(db_url: str) -> None:
    db = db_url
    # Bad input first: refused, and no ticket number is used up.
    err = refused(db, "2025-11-03T09:00:00", *INTAKE, "--category", "闲聊",
                  "--caller-phone", "13800138000")
    assert "诉求类别" in err and "invalid category" in err

    a = ok(db, "2025-11-03T09:00:00", *INTAKE, "--category", "投诉", "--urgency", "一般",
           "--caller-phone", "138-0013-8000")
    t = a["ticket_no"]
    assert t == "202511030001"
    assert (state(a), a["category"], a["urgency"]) == ("已受理", "投诉", "一般")
    assert a["department"] is None and a["assist_departments"] == []
    assert a["reopen_count"] == 0 and a["due_at"] is None
    assert a["caller_phone"] == "138****8000" and a["caller_name"] == "张*"
    assert "13800138000" not in json.dumps(a)

    # An illegal command: exit 2 naming the state, nothing recorded (version stays 1).
    err = refused(db, "2025-11-03T09:30:00", "resolve", t, "--dept", LEAD, "--reply", "已办")
    assert "当前状态为“已受理”" in err and "not allowed" in err

    a = ok(db, "2025-11-03T10:00:00", "dispatch", t, "--dept", LEAD, "--assist", ASSIST1,
           "--assist", ASSIST2)
    assert state(a) == "已派单" and a["version"] == 2
    assert a["department"] == LEAD and a["assist_departments"] == [ASSIST1, ASSIST2]
    assert a["due_at"] == "2025-11-24T23:59:59+08:00"
    assert a["sign_due_at"] == "2025-11-04T23:59:59+08:00"

    a = ok(db, "2025-11-03T14:00:00", "sign", t, "--dept", LEAD)
    assert state(a) == "办理中/处理中" and a["signed_at"] == "2025-11-03T14:00:00+08:00"

    a = ok(db, "2025-11-05T09:00:00", "extend", t, "--dept", LEAD, "--days", "3",
           "--reason", "需协调住建部门")
    assert state(a) == "办理中/延期审批中" and a["pending_extension"]["days"] == 3

    a = ok(db, "2025-11-05T10:00:00", "approve-extension", t, "--note", "同意")
    assert state(a) == "办理中/处理中"
    assert a["due_at"] == "2025-11-27T23:59:59+08:00"

    a = ok(db, "2025-11-10T16:00:00", "resolve", t, "--dept", LEAD, "--reply", "已更换灯杆")
    assert state(a) == "已办结" and a["reply"] == "已更换灯杆"

    a = ok(db, "2025-11-11T10:00:00", "callback", t, "--result", "不满意", "--comment", "仍不亮")
    assert state(a) == "办理中/处理中"
    assert a["reopen_count"] == 1 and a["department"] == LEAD
    assert a["supervision_orders"][-1]["no"] == f"{t}-DB01"
    assert a["supervision_orders"][-1]["dept"] == LEAD
    assert a["due_at"] == "2025-11-18T23:59:59+08:00"  # 5 working days from the reopen

    a = ok(db, "2025-11-12T10:00:00", "resolve", t, "--dept", LEAD, "--reply", "已修复线路")
    a = ok(db, "2025-11-13T10:00:00", "callback", t, "--result", "满意")
    assert state(a) == "已归档" and a["callback"]["result"] == "满意"
    assert a["version"] == 9

    # A 紧急 咨询 on a new day, led by a unit that assists on the first order.
    b = ok(db, "2025-11-13T11:00:00", *INTAKE, "--category", "咨询", "--urgency", "紧急",
           "--caller-phone", "+86 574 8888 6666")
    assert b["ticket_no"] == "202511130001"  # a new day, a new sequence
    assert b["caller_phone"] == "0574****6666"
    b = ok(db, "2025-11-13T11:10:00", "dispatch", b["ticket_no"], "--dept", ASSIST1)
    assert b["due_at"] == "2025-11-14T11:10:00+08:00"  # 紧急: 24 h wall clock

    # list: by unit (lead OR assisting), by state, by category.
    rows = ok(db, "2025-11-14T09:00:00", "list", "--dept", ASSIST1)
    assert [(r["ticket_no"], r["department"]) for r in rows] == [
        (t, LEAD), (b["ticket_no"], ASSIST1)]
    rows = ok(db, "2025-11-14T09:00:00", "list", "--state", "已归档")
    assert [r["ticket_no"] for r in rows] == [t]
    rows = ok(db, "2025-11-14T09:00:00", "list", "--category", "咨询")
    assert [(r["ticket_no"], r["state"]) for r in rows] == [(b["ticket_no"], "已派单")]

    # history --as-of: the order as it was while the extension was pending (Beijing time).
    h = ok(db, "2025-11-14T09:00:00", "history", t, "--as-of", "2025-11-05T09:30:00")
    assert state(h["state"]) == "办理中/延期审批中"
    assert h["state"]["due_at"] == "2025-11-24T23:59:59+08:00"
    assert [e["type"] for e in h["events"]] == [
        "Registered", "Dispatched", "Signed", "ExtensionRequested"]
    # The unit's command, run locally: the OS user acting for the unit, recorded as such.
    assert h["events"][2]["actor"] == {"role": "department",
                                       "id": f"{LEAD}/local:{getpass.getuser()}"}
    assert h["events"][3]["details"]["reason"] == "需协调住建部门"

    report = ok(db, "2025-11-14T09:00:00", "verify")
    assert report["ok"] is True and report["checked_orders"] == 2
    assert report["checked_events"] == 9 + 2


def test_console_script_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    phone = ["--category", "投诉", "--caller-phone", "13800138000"]

    # --now is a simulation feature only.
    err = refused(db, "2025-11-03T09:00:00", *INTAKE, *phone, simulation=False)
    assert "REXIAN_SIMULATION=1" in err and "模拟模式" in err
    err = refused(db, "yesterday", *INTAKE, *phone)
    assert "时间格式无效" in err and "ISO 8601" in err

    # --json: the error is also a JSON object on stdout.
    done = rexian(db, *INTAKE, "--category", "投诉", "--caller-phone", "12345",
                  "--json", now="2025-11-03T09:00:00")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["field"] == "caller_phone"
    assert json.loads(done.stdout)["error"]["type"] == "InvalidInput"
    assert "电话号码" in done.stderr and "invalid phone number" in done.stderr

    err = refused(db, "2025-11-03T09:00:00", "show", "202511039999")
    assert "不存在" in err and "does not exist" in err

    # None of the refused commands recorded anything.
    assert ok(db, "2025-11-03T09:00:00", "list") == []

    units = ok(db, "2025-11-03T09:00:00", "departments")
    names = [u["name"] for u in units]
    assert {LEAD, OTHER, ASSIST1, ASSIST2} <= set(names)
    assert len(names) == len(set(names))
    lead = units[names.index(LEAD)]
    assert lead["supervisor"] == "区政府" and lead["duty_phone"] == "057487000102"


def test_projections_status_and_rebuild(tmp_path: Path) -> None:
    """Rebuilding a read model refills it from the log: same rows, position at the head."""
    db, now = str(tmp_path / "p.db"), "2025-11-03T09:00"
    for phone in ("13800138000", "13900139000"):
        ok(db, now, *INTAKE, "--category", "投诉", "--caller-phone", phone)
    before = ok(db, now, "list")
    status = ok(db, now, "projections", "status")
    names = {row["name"] for row in status["projections"]}
    assert {"tickets", "deadline_index", "callback_queue", "department_feed"} <= names
    assert status["head"] > 0
    rebuilt = ok(db, now, "projections", "rebuild", "tickets", "department_feed")
    assert [r["name"] for r in rebuilt["rebuilt"]] == ["tickets", "department_feed"]
    assert rebuilt["rebuilt"][0]["applied"] == status["head"]
    assert ok(db, now, "list") == before
    assert {r["name"] for r in ok(db, now, "projections", "rebuild", "--all")["rebuilt"]} == names
    after = ok(db, now, "projections", "status")
    assert all(row["behind"] == 0 for row in after["projections"])
    assert "tickets" in refused(db, now, "projections", "rebuild", "nonsense")  # names the known
    refused(db, now, "projections", "rebuild")  # neither names nor --all
    refused(db, now, "projections", "rebuild", "tickets", "--all")


# ----- one command per run (start-up): the narrowed app behaves like the whole one -------
def _names() -> list[str]:
    from typer.main import get_command_name

    from tools.cli import app

    return [c.name or get_command_name(c.callback.__name__) for c in app.registered_commands
            if c.callback] + [str(g.name) for g in app.registered_groups]


def test_each_command_runs_alone_with_the_same_help() -> None:
    from typer.testing import CliRunner

    from tools.cli import app, app_for

    runner = CliRunner()
    names = _names()
    assert len(names) > 20 and "show" in names and "calendar" in names
    for name in names:
        narrowed = app_for(["--db", "x.db", name, "--help"])
        assert narrowed is not app
        assert len(narrowed.registered_commands) + len(narrowed.registered_groups) == 1
        alone = runner.invoke(narrowed, [name, "--help"], prog_name="rexian")
        whole = runner.invoke(app, [name, "--help"], prog_name="rexian")
        assert alone.exit_code == whole.exit_code == 0, name
        assert alone.output == whole.output, name


def test_help_typos_and_unknown_options_get_the_whole_app() -> None:
    from tools.cli import app, app_for

    for argv in ([], ["--help"], ["--help", "show"], ["shw", "T"], ["-x", "show"],
                 ["--db", "x.db"]):
        assert app_for(argv) is app, argv
    assert app_for(["--db=x.db", "--now", "2025-11-03T09:00", "show", "T"]) is not app
    # click reads "--help" here as the value of --db, and so do we.
    assert app_for(["--db", "--help", "show"]).registered_commands[0].callback.__name__ \
        == "show"


def test_console_script_help_and_typo_suggestions() -> None:
    done = rexian(None, "--help", simulation=False)
    assert done.returncode == 0 and "show" in done.stdout and "intake" in done.stdout
    typo = rexian(None, "shw", "T", simulation=False)
    assert typo.returncode == 2 and "'shw'" in typo.stderr and "'show'" in typo.stderr


def test_projections_follow_keeps_a_read_model_current_until_stopped(tmp_path: Path) -> None:
    import signal
    import time

    db, now = str(tmp_path / "f.db"), "2025-11-03T09:00"
    ok(db, now, *INTAKE, "--category", "投诉", "--caller-phone", "13800138000")
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "tools.cli"]
    env = {k: v for k, v in os.environ.items()  # keeping the session's KEK
           if not k.startswith("REXIAN_") or k == "REXIAN_KEK_FILE"}
    env.update(PYTHONPATH=str(REPO), REXIAN_SIMULATION="1")
    follower = subprocess.Popen([*command, "--db", db, "projections", "follow", "tickets",
                                 "--interval", "0.1", "--json"], env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert follower.stderr is not None
        assert "following: tickets" in follower.stderr.readline()
        ok(db, now, *INTAKE, "--category", "投诉", "--caller-phone", "13900139000")

        def behind() -> int:
            rows = ok(db, now, "projections", "status")["projections"]
            return int(next(r["behind"] for r in rows if r["name"] == "tickets"))

        deadline = time.monotonic() + 30
        while behind() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert behind() == 0  # caught up by the follower (status itself applies nothing)
        follower.send_signal(signal.SIGTERM)
        out, _ = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0
    assert json.loads(out)["applied"] >= 1
    refused(db, now, "projections", "follow", "nonsense")
