"""The web console's JSON APIs on a real engine and a running server (adapters/http)."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

from domain.access.access_log import AS_OF, REFUSED
from tests.support.console import DISPATCHER, LONG_UNIT, Console, console  # noqa: F401
from tests.test_serve import cli, staff_token, start_serve, stop

__all__ = ["console"]


def refusals(c: Console) -> list[dict]:
    since = c.engine.service.now() - timedelta(days=1)
    return [e for e in c.engine.access_entries(since) if e["action"] == REFUSED]


def test_every_api_and_page_refuses_a_caller_without_a_valid_token(console: Console) -> None:
    paths = ["/api/me", "/api/dashboard", "/api/worklists/dispatch", "/api/worklists/ladder",
             "/api/worklists/unit?dept=区城管局", f"/api/orders/{console.orders['区城管局']}",
             f"/api/orders/{console.orders['区城管局']}/history", "/api/events",
             "/api/report?from=2025-09-01&to=2025-09-30"]
    before = len(refusals(console))
    for path in paths:
        for headers in ({}, {"authorization": "Bearer rx_" + "A" * 43}):
            response = httpx.get(console.url + path, headers=headers)
            assert response.status_code == 401, path
            assert "身份验证失败" in response.json()["zh"]
    assert len(refusals(console)) == before + 2 * len(paths)
    for page in ("/", "/worklists", f"/orders/{console.orders['区城管局']}", "/reports"):
        response = httpx.get(console.url + page)
        assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_unit_sees_only_its_own_orders_and_a_refusal_is_logged(console: Console) -> None:
    own, other = console.orders["区城管局"], console.orders["区水务局"]
    unit = console.auth("区城管局")
    shown = httpx.get(f"{console.url}/api/orders/{own}", headers=unit)
    assert shown.status_code == 200
    assert shown.json()["caller_phone"] == "138****5678"  # masked
    assert "13812345678" not in shown.text and "张三" not in shown.text
    before = len(refusals(console))
    refused = httpx.get(f"{console.url}/api/orders/{other}", headers=unit)
    assert refused.status_code == 403 and "不属于本单位" in refused.json()["zh"]
    assert httpx.get(f"{console.url}/api/worklists/unit?dept=区水务局",
                     headers=unit).status_code == 403
    assert httpx.get(f"{console.url}/api/dashboard", headers=unit).status_code == 403
    logged = refusals(console)[before:]
    assert [e["operation"] for e in logged] == ["show", "unit_orders", "dashboard"]
    assert logged[0]["target"] == other
    mine = httpx.get(f"{console.url}/api/worklists/unit", headers=unit).json()
    # Its own order, and the one it assists on (led by the long-named unit).
    assert sorted(o["ticket_no"] for o in mine["orders"]) == sorted(
        [own, console.orders[LONG_UNIT]]) and mine["dept"] == "区城管局"
    assert all(o["due_at"] and o["sla_state"] == "正常" for o in mine["orders"])
    assert httpx.get(f"{console.url}/api/orders/{console.orders[LONG_UNIT]}",
                     headers=unit).status_code == 200


def test_worklists_and_dashboard_agree_with_the_ticket_list(console: Console) -> None:
    headers = console.auth("dispatcher")
    board = httpx.get(f"{console.url}/api/dashboard", headers=headers).json()
    listed = console.engine.list()
    for state, count in board["open_by_state"].items():
        assert count == sum(1 for row in listed if row["state"] == state), state
    assert board["open_by_state"]["已派单"] == 3 and board["open_by_state"]["已受理"] == 1
    pending = httpx.get(f"{console.url}/api/worklists/dispatch", headers=headers).json()
    assert [o["state"] for o in pending["orders"]] == ["已受理"]
    assert pending["orders"][0]["dispatch_due_at"]
    assert board["callback_queue"] == {"待回访": 0, "重拨中": 0, "转人工回访": 0}
    no = console.orders["区水务局"]
    console.engine.service.sign(no, dept="区水务局", actor=DISPATCHER)
    console.engine.service.resolve(no, dept="区水务局", reply="已修复", actor=DISPATCHER)
    board = httpx.get(f"{console.url}/api/dashboard", headers=headers).json()
    assert board["callback_queue"]["待回访"] == 1 and board["open_by_state"]["已派单"] == 2
    # The robot may show an order but has no console.
    assert httpx.get(f"{console.url}/api/dashboard",
                     headers=console.auth("robot")).status_code == 403


def test_history_as_of_shows_the_order_then_and_logs_the_auditor(console: Console) -> None:
    no = console.orders["区城管局"]
    dispatched = console.engine.service.show(no)["dispatched_at"]
    clock = console.engine.service.clock
    clock.advance(hours=1)  # type: ignore[attr-defined]
    console.engine.service.sign(no, dept="区城管局", actor=DISPATCHER)
    headers = console.auth("auditor")
    now = httpx.get(f"{console.url}/api/orders/{no}/history", headers=headers).json()
    assert now["state"]["state"] == "办理中" and len(now["events"]) == 3
    then = httpx.get(f"{console.url}/api/orders/{no}/history", headers=headers,
                     params={"as_of": dispatched}).json()
    assert then["state"]["state"] == "已派单" and len(then["events"]) == 2
    since = console.engine.service.now() - timedelta(days=1)
    reads = [e for e in console.engine.access_entries(since) if e["action"] == AS_OF]
    assert reads and reads[-1]["target"] == no
    verified = httpx.get(f"{console.url}/api/orders/{no}/verify", headers=headers).json()
    assert verified["ok"] is True and verified["checked_events"] == 3
    bad = httpx.get(f"{console.url}/api/orders/{no}/history", headers=headers,
                    params={"as_of": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidInput"


def test_login_gives_an_httponly_strict_session_and_logout_needs_its_csrf(
        console: Console) -> None:
    with httpx.Client(base_url=console.url) as browser:
        form = browser.post("/api/login", data={"token": console.tokens["supervisor"]})
        assert form.status_code == 400  # a cross-site form cannot log anyone in
        bad = browser.post("/api/login", json={"token": "nope"})
        assert bad.status_code == 401
        good = browser.post("/api/login", json={"token": console.tokens["supervisor"]})
        assert good.status_code == 200 and good.json()["roles"] == ["supervisor"]
        cookie = good.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert console.tokens["supervisor"] not in good.headers["set-cookie"]
        assert browser.get("/api/me").json()["id"] == "supervisor-1"
        page = browser.get("/")
        assert page.status_code == 200 and console.tokens["supervisor"] not in page.text
        assert browser.post("/api/logout").status_code == 403  # no CSRF header
        csrf = page.text.split('name="csrf" content="')[1].split('"')[0]
        assert browser.post("/api/logout", headers={"x-csrf-token": csrf}).status_code == 200
        assert browser.get("/api/me").status_code == 401


def test_live_stream_reports_a_command_and_stops_when_the_client_goes(console: Console) -> None:
    state = console.server.app.state.console
    seen: list[str] = []
    with httpx.Client(base_url=console.url, timeout=10) as client, client.stream(
            "GET", "/api/events", headers=console.auth("dispatcher")) as stream:
        lines = stream.iter_lines()
        while not seen or seen[-1] != "":
            seen.append(next(lines))
        assert seen[0] == "event: hello" and state.streams == 1
        threading.Timer(0.2, console.intake).start()
        while "event: changed" not in seen:
            seen.append(next(lines))
    deadline = time.monotonic() + 5
    while state.streams and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.streams == 0  # the generator noticed the disconnect and ended


def test_serve_http_runs_the_console_in_the_engine_process(tmp_path: Path) -> None:
    db = tmp_path / "rexian.db"
    token = staff_token(db)  # agent + dispatcher
    proc, grpc_address = start_serve(db, "--http", "127.0.0.1:0")
    try:
        line = proc.wait_for_line(r"^Web console: http://127\.0\.0\.1:\d+/", timeout=30)
        url = line.split("Web console: ", 1)[1].strip().rstrip("/")
        assert httpx.get(url + "/login").status_code == 200
        assert httpx.get(url + "/api/dashboard").status_code == 401
        made = cli("--grpc", grpc_address, "--token", token, "intake", "--channel", "电话",
                   "--category", "投诉", "--region", "甬江区", "--caller-name", "张三",
                   "--caller-phone", "13800138000", "--content", "路灯不亮", "--json")
        assert made.returncode == 0, made.stderr
        board = httpx.get(url + "/api/dashboard",
                          headers={"authorization": f"Bearer {token}"}).json()
        assert board["open_by_state"]["已受理"] == 1
    finally:
        assert stop(proc) == 0
    assert "stopped cleanly" in proc.output()


def test_serve_http_on_a_busy_port_fails_at_start_with_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = cli("--db", str(tmp_path / "rexian.db"), "serve", "--grpc", "127.0.0.1:0",
                   "--http", f"127.0.0.1:{port}")
    assert done.returncode == 2 and "错误 / error" in done.stderr
    assert "Traceback" not in done.stderr
    bad = cli("--db", str(tmp_path / "rexian.db"), "serve", "--grpc", "127.0.0.1:0",
              "--http", "8080")
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr
