"""Tamper evidence, tested the way an insider would tamper: by editing the SQLite file.

Each test builds a small store with the real engine, closes it, edits the database
directly with the sqlite3 module, then runs the real `rexian --db FILE verify --json`
CLI (a subprocess) and `Engine.verify()`. Tampering must exit 1 with a problem that
names the work order and the event version; an untouched store must exit 0.

`history --as-of` is tested end to end through the CLI with the simulation clock.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from typer.testing import CliRunner

from adapters.bootstrap import Engine, build_engine
from adapters.sealed_store import stored_hash
from domain.audit import GENESIS
from domain.service import SHANGHAI, WorkOrderService
from domain.values import Actor
from domain.workorder import order_id
from tests.conftest import SimClock
from tools.cli import app as cli_app

ROOT = Path(__file__).resolve().parent.parent
REXIAN = Path(sys.executable).with_name("rexian")
LEDGER = "rexian_audit_ledger"

AGENT = Actor("agent", "A07")
CENTRE = Actor("dispatcher", "D01")
CITY = Actor("department", "区城管局")
WATER = Actor("department", "区水务局")


# ----- building a store ----------------------------------------------------------------
@dataclass
class Store:
    path: Path
    events_table: str  # stored_events on SQLite (rexian_events on PostgreSQL)
    snapshots_table: str
    a: str  # 投诉, archived: intake, dispatch, sign, resolve, callback (v1..v5)
    b: str  # 求助, in hand: intake, dispatch, sign (v1..v3)
    c: str  # 咨询, answered at intake: intake, answer (v1..v2)

    def engine(self, **kwargs: Any) -> Engine:
        return build_engine(str(self.path), clock=SimClock(datetime(2025, 10, 20, 9, 0,
                                                                    tzinfo=SHANGHAI)), **kwargs)

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self.path), isolation_level=None)


def intake(engine: Engine, category: str, content: str) -> str:
    return engine.service.intake(channel="电话", category=category, urgency="一般",
                                 region="甬江区东湖街道", content=content, caller_name="张三",
                                 caller_phone="13800138000", actor=AGENT)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    clock = SimClock(datetime(2025, 10, 9, 9, 0, tzinfo=SHANGHAI))
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    s = engine.service
    a = intake(engine, "投诉", "小区门口路灯不亮已一周")
    clock.advance(minutes=10)
    s.dispatch(a, dept="区城管局", assist=[], actor=CENTRE)
    clock.advance(minutes=30)
    s.sign(a, dept="区城管局", actor=CITY)
    clock.advance(days=1)
    s.resolve(a, dept="区城管局", reply="路灯已修复，恢复照明", actor=CITY)
    clock.advance(hours=5)
    s.record_callback(a, result="满意", comment="很及时", actor=AGENT)
    b = intake(engine, "求助", "家中停水")
    s.dispatch(b, dept="区水务局", assist=[], actor=CENTRE)
    s.sign(b, dept="区水务局", actor=WATER)
    c = intake(engine, "咨询", "公积金怎么提取")
    s.answer(c, reply="请携带身份证到政务中心办理", actor=AGENT)
    events_table = engine.service.recorder.events_table_name  # type: ignore[attr-defined]
    assert engine.service.snapshots is not None
    snapshots_table = engine.service.snapshots.recorder.events_table_name  # type: ignore[attr-defined]
    engine.close()  # every edit below happens with no engine open
    return Store(tmp_path / "rexian.db", events_table, snapshots_table, a, b, c)


# ----- editing the file ------------------------------------------------------------------
def event_row(store: Store, ticket: str, version: int) -> tuple[int, str, bytes]:
    """(rowid = notification id, topic, state) of one stored event."""
    with store.connect() as con:
        row = con.execute(
            f"SELECT rowid, topic, state FROM {store.events_table} "
            "WHERE originator_id = ? AND originator_version = ?",
            (order_id(ticket).hex, version)).fetchone()
    assert row is not None, f"no stored event {ticket} v{version}"
    return int(row[0]), str(row[1]), bytes(row[2])


def edit_event(store: Store, ticket: str, version: int,
               change: Callable[[dict[str, Any]], None]) -> None:
    rowid, _topic, state = event_row(store, ticket, version)
    body = json.loads(state)
    change(body)
    with store.connect() as con:
        con.execute(f"UPDATE {store.events_table} SET state = ? WHERE rowid = ?",
                    (json.dumps(body, ensure_ascii=False).encode(), rowid))


def execute(store: Store, sql: str, params: tuple[Any, ...] = ()) -> None:
    with store.connect() as con:
        con.execute(sql, params)


# ----- running verify ----------------------------------------------------------------------
def rexian(*args: str, simulation: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("REXIAN_DB", None)
    env.pop("REXIAN_ACTOR", None)
    if simulation:
        env["REXIAN_SIMULATION"] = "1"
    else:
        env.pop("REXIAN_SIMULATION", None)
    return subprocess.run([str(REXIAN), *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60, check=False)


def cli_verify(store: Store, ticket: str | None = None) -> tuple[int, dict[str, Any]]:
    done = rexian("--db", str(store.path), "verify", *([ticket] if ticket else []), "--json")
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def engine_verify(store: Store, ticket: str | None = None) -> dict[str, Any]:
    engine = store.engine()
    try:
        return engine.verify(ticket).as_dict()
    finally:
        engine.close()


def show(store: Store, ticket: str) -> dict[str, Any]:
    """What `show` reports (in process: the CLI prints exactly this dict)."""
    engine = store.engine()
    try:
        return engine.service.show(ticket)
    finally:
        engine.close()


def problems_at(report: dict[str, Any], ticket: str, version: int) -> set[str]:
    return {p["kind"] for p in report["problems"]
            if p["ticket_no"] == ticket and p["version"] == version}


def assert_caught(store: Store, ticket: str, version: int, *kinds: str) -> dict[str, Any]:
    """CLI `verify` exits 1 naming ticket+version; Engine.verify() and verify(T) agree."""
    code, report = cli_verify(store)
    assert code == 1, report
    assert report["ok"] is False
    found = problems_at(report, ticket, version)
    assert found, f"no problem names {ticket} v{version}: {report['problems']}"
    for kind in kinds:
        assert kind in found, (kind, report["problems"])
    assert engine_verify(store)["problems"] == report["problems"]
    assert problems_at(engine_verify(store, ticket), ticket, version)
    return report


# ----- (i) the untouched store -------------------------------------------------------------
def test_untouched_store_verifies_ok(store: Store) -> None:
    code, report = cli_verify(store)
    assert code == 0
    assert report["ok"] is True and report["problems"] == []
    assert (report["checked_orders"], report["checked_events"]) == (3, 10)
    assert report["unsealed_events"] == 0
    assert len(report["ledger_head"]) == 64 and report["ledger_head"] != GENESIS
    code_t, one = cli_verify(store, store.b)
    assert code_t == 0 and one["ok"] and (one["checked_orders"], one["checked_events"]) == (1, 3)
    for ticket in (store.a, store.b, store.c):
        assert engine_verify(store, ticket)["ok"]
    assert engine_verify(store) == report
    text = rexian("--db", str(store.path), "verify")
    assert text.returncode == 0 and "OK" in text.stdout and report["ledger_head"] in text.stdout


def test_verify_of_an_unknown_ticket_is_bad_input(store: Store) -> None:
    done = rexian("--db", str(store.path), "verify", "209901019999", "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["type"] == "UnknownTicket"


def test_verify_one_untouched_order_while_another_is_tampered(store: Store) -> None:
    edit_event(store, store.a, 4, lambda e: e.update(reply="已处理"))
    code, report = cli_verify(store, store.b)
    assert code == 0 and report["ok"], report
    for untouched in (store.b, store.c):
        assert engine_verify(store, untouched)["ok"]
    code, report = cli_verify(store, store.a)
    assert code == 1 and problems_at(report, store.a, 4)
    code, report = cli_verify(store)
    assert code == 1
    assert {p["ticket_no"] for p in report["problems"]} == {store.a}


# ----- (a) editing a field inside a middle event ---------------------------------------------
def _shift_timestamp(body: dict[str, Any]) -> None:
    moment = datetime.fromisoformat(body["timestamp"]["_data_"]) - timedelta(hours=1)
    body["timestamp"]["_data_"] = moment.isoformat()


@pytest.mark.parametrize(("version", "change"), [
    pytest.param(4, lambda e: e.update(reply="无法处理，建议自行解决"), id="reply-text"),
    pytest.param(2, lambda e: e.update(actor_id="D99"), id="who-dispatched"),
    pytest.param(3, _shift_timestamp, id="when-signed"),
    pytest.param(2, lambda e: e.update(assist=["区水务局"]), id="assisting-unit"),
])
def test_editing_a_middle_event_is_caught(
        store: Store, version: int, change: Callable[[dict[str, Any]], None]) -> None:
    edit_event(store, store.a, version, change)
    report = assert_caught(store, store.a, version, "edited")
    # The successor no longer vouches for it either.
    assert "chain" in problems_at(report, store.a, version + 1)


def test_an_edited_reply_shows_up_in_show_and_is_caught(store: Store) -> None:
    edit_event(store, store.a, 4, lambda e: e.update(reply="无法处理"))
    assert show(store, store.a)["reply"] == "无法处理"  # what a reader would now see
    assert_caught(store, store.a, 4, "edited")


# ----- (b) editing the LAST event (no successor vouches for it: the ledger does) -------------
@pytest.mark.parametrize(("which", "version", "change"), [
    ("a", 5, lambda e: e.update(result="基本满意")),
    ("a", 5, lambda e: e.update(comment="")),
    ("b", 3, lambda e: e.update(actor_id="区城管局")),
    ("c", 2, lambda e: e.update(reply="不清楚")),
])
def test_editing_the_last_event_is_caught_by_the_ledger(
        store: Store, which: str, version: int,
        change: Callable[[dict[str, Any]], None]) -> None:
    ticket = getattr(store, which)
    edit_event(store, ticket, version, change)
    report = assert_caught(store, ticket, version, "edited")
    assert {p["kind"] for p in report["problems"]} == {"edited"}  # the chain alone is blind


# ----- (c) / (d) deleting events ---------------------------------------------------------
def test_deleting_a_middle_event_is_caught(store: Store) -> None:
    rowid, _, _ = event_row(store, store.a, 3)
    execute(store, f"DELETE FROM {store.events_table} WHERE rowid = ?", (rowid,))
    report = assert_caught(store, store.a, 3, "deleted")
    assert "chain" in problems_at(report, store.a, 4)


@pytest.mark.parametrize("which", ["a", "b"])
def test_deleting_the_latest_event_is_caught(store: Store, which: str) -> None:
    ticket = getattr(store, which)
    latest = {"a": 5, "b": 3}[which]
    before = show(store, ticket)
    rowid, _, _ = event_row(store, ticket, latest)
    execute(store, f"DELETE FROM {store.events_table} WHERE rowid = ?", (rowid,))
    after = show(store, ticket)
    assert after["version"] == latest - 1 and after["state"] != before["state"]  # silent rollback
    assert_caught(store, ticket, latest, "deleted")


# ----- (e) inserting forged events ---------------------------------------------------------
def test_inserting_a_copied_event_with_a_new_version_is_caught(store: Store) -> None:
    _rowid, topic, state = event_row(store, store.b, 3)
    body = json.loads(state)
    body["actor_id"] = "区水务局"
    execute(store, f"INSERT INTO {store.events_table} (originator_id, originator_version, topic, "
            "state) VALUES (?, ?, ?, ?)",
            (order_id(store.b).hex, 4, topic, json.dumps(body, ensure_ascii=False).encode()))
    assert show(store, store.b)["version"] == 4
    report = assert_caught(store, store.b, 4, "chain")
    assert report["unsealed_events"] == 1  # stored after the ledger's last seal


def test_inserting_forged_content_in_the_middle_of_the_log_is_caught(store: Store) -> None:
    """Forged event given the notification id of a real one that is moved out of the way."""
    rowid, topic, state = event_row(store, store.a, 5)
    body = json.loads(state)
    body["result"] = "基本满意"
    with store.connect() as con:
        con.execute(f"UPDATE {store.events_table} SET rowid = 1000 WHERE rowid = ?", (rowid,))
        con.execute(f"INSERT INTO {store.events_table} (rowid, originator_id, "
                    "originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                    (rowid, order_id(store.a).hex, 6, topic,
                     json.dumps(body, ensure_ascii=False).encode()))
    report = assert_caught(store, store.a, 6, "chain")
    assert "deleted" in problems_at(report, store.a, 5)  # v5 is no longer where it was sealed


def test_an_event_hidden_outside_the_notification_log_is_caught(store: Store) -> None:
    """SQLite rowid <= 0: invisible to the notification log, yet `show` loads it."""
    _rowid, topic, state = event_row(store, store.a, 4)
    body = json.loads(state)
    body["reply"] = "伪造的答复"
    execute(store, f"INSERT INTO {store.events_table} (rowid, originator_id, originator_version, "
            "topic, state) VALUES (-1, ?, 6, ?, ?)",
            (order_id(store.a).hex, topic, json.dumps(body, ensure_ascii=False).encode()))
    assert show(store, store.a)["reply"] == "伪造的答复"
    assert_caught(store, store.a, 6, "inserted")


def test_an_event_written_behind_the_ledgers_back_is_caught(store: Store) -> None:
    """A well-formed event (valid prev_hash) stored by a plain event-store recorder,
    i.e. around the engine: the engine seals every event in the inserting transaction,
    so a stored event without a ledger row can only have been written behind its back."""
    engine = store.engine()
    try:
        env = engine.config.eventsourcing_env()
        del env["APPLICATION_RECORDER_TOPIC"]  # the stock recorder: no ledger row
        rogue = WorkOrderService(env, numbers=engine.service.numbers, vault=engine.vault,
                                 departments=engine.departments, clock=engine.service.clock)
        try:
            rogue.resolve(store.b, dept="区水务局", reply="已恢复供水", actor=WATER)
        finally:
            rogue.close()
    finally:
        engine.close()
    code, report = cli_verify(store)
    assert code == 1
    assert report["unsealed_events"] == 1
    assert any(p["kind"] == "unsealed" and p["ticket_no"] == store.b for p in report["problems"])
    assert engine_verify(store)["unsealed_events"] == 1


# ----- (f) reordering ----------------------------------------------------------------------
def test_swapping_two_events_is_caught(store: Store) -> None:
    oid = order_id(store.a).hex
    with store.connect() as con:
        table = store.events_table
        con.execute(f"UPDATE {table} SET originator_version = -2 WHERE originator_id = ? "
                    "AND originator_version = 2", (oid,))
        con.execute(f"UPDATE {table} SET originator_version = 2 WHERE originator_id = ? "
                    "AND originator_version = 3", (oid,))
        con.execute(f"UPDATE {table} SET originator_version = 3 WHERE originator_id = ? "
                    "AND originator_version = -2", (oid,))
    report = assert_caught(store, store.a, 2)
    assert problems_at(report, store.a, 3)
    assert any(p["kind"] == "chain" for p in report["problems"])


def test_swapping_the_contents_of_two_events_is_caught(store: Store) -> None:
    """Versions stay in place; the topic and state of v2 and v3 trade places."""
    row2, row3 = event_row(store, store.a, 2), event_row(store, store.a, 3)
    with store.connect() as con:
        con.execute(f"UPDATE {store.events_table} SET topic = ?, state = ? WHERE rowid = ?",
                    (row3[1], row3[2], row2[0]))
        con.execute(f"UPDATE {store.events_table} SET topic = ?, state = ? WHERE rowid = ?",
                    (row2[1], row2[2], row3[0]))
    report = assert_caught(store, store.a, 2, "edited")
    assert "edited" in problems_at(report, store.a, 3)


# ----- (g) undecodable events --------------------------------------------------------------
@pytest.mark.parametrize("damage", [
    pytest.param(lambda topic, state: (topic, state[: len(state) // 2]), id="truncated-json"),
    pytest.param(lambda topic, state: (topic, b"\xff\xfe not json"), id="not-utf8"),
    pytest.param(lambda topic, state: ("domain.workorder:WorkOrder.Forged", state),
                 id="unknown-topic"),
])
def test_an_undecodable_event_is_caught_not_a_crash(
        store: Store, damage: Callable[[str, bytes], tuple[str, bytes]]) -> None:
    # The ticket list projection has not been caught up since intake (no `list` ran):
    # verify must not decode events through it and crash on the damaged one.
    rowid, topic, state = event_row(store, store.a, 3)
    new_topic, new_state = damage(topic, state)
    execute(store, f"UPDATE {store.events_table} SET topic = ?, state = ? WHERE rowid = ?",
            (new_topic, new_state, rowid))
    report = assert_caught(store, store.a, 3, "corrupt")
    assert {p["ticket_no"] for p in report["problems"]} == {store.a}


# ----- (h) tampering with the ledger itself ----------------------------------------------
def ledger_rows(store: Store) -> list[tuple[int, str, int, str, str]]:
    with store.connect() as con:
        return [tuple(r) for r in con.execute(  # type: ignore[misc]
            f"SELECT position, originator_id, version, event_hash, chain_hash FROM {LEDGER} "
            "ORDER BY position").fetchall()]


def ledger_position(store: Store, ticket: str, version: int) -> int:
    return event_row(store, ticket, version)[0]


def test_editing_a_ledger_hash_breaks_its_chain(store: Store) -> None:
    position = ledger_position(store, store.a, 3)
    execute(store, f"UPDATE {LEDGER} SET event_hash = ? WHERE position = ?",
            (hashlib.sha256(b"forged").hexdigest(), position))
    report = assert_caught(store, store.a, 3, "ledger")
    assert "edited" in problems_at(report, store.a, 3)


def test_editing_a_ledger_chain_hash_breaks_its_chain(store: Store) -> None:
    position = ledger_position(store, store.b, 2)
    execute(store, f"UPDATE {LEDGER} SET chain_hash = ? WHERE position = ?",
            ("f" * 64, position))
    report = assert_caught(store, store.b, 2, "ledger")
    assert "ledger" in problems_at(report, store.b, 3)  # the next link no longer matches


def test_deleting_a_ledger_row_is_caught(store: Store) -> None:
    position = ledger_position(store, store.a, 4)
    execute(store, f"DELETE FROM {LEDGER} WHERE position = ?", (position,))
    report = assert_caught(store, store.a, 4, "inserted")  # the event is no longer sealed
    assert any(p["kind"] == "ledger" for p in report["problems"])


def test_a_consistent_rewrite_of_event_and_ledger_is_caught_by_a_published_anchor(
        store: Store) -> None:
    """Edit the last event of A and recompute its ledger row and every later chain link.

    Nothing inside the store can object to a fully consistent rewrite (the ledger is not
    keyed); what catches it is the (position, head) published before the rewrite.
    """
    _code, before = cli_verify(store)
    anchor = f"{before['ledger_position']}:{before['ledger_head']}"
    edit_event(store, store.a, 5, lambda e: e.update(result="基本满意"))
    position = ledger_position(store, store.a, 5)
    with store.connect() as con:
        oid, version, topic, state = con.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {store.events_table} "
            "WHERE originator_id = ? AND originator_version = 5",
            (order_id(store.a).hex,)).fetchone()
    digest = stored_hash(StoredEvent(originator_id=oid, originator_version=version,
                                     topic=topic, state=state))
    rows = ledger_rows(store)
    previous = GENESIS
    with store.connect() as con:
        for pos, _oid, _version, event_digest, _chain in rows:
            if pos == position:
                event_digest = digest
            chain = hashlib.sha256(f"{previous}{event_digest}".encode()).hexdigest()
            con.execute(f"UPDATE {LEDGER} SET event_hash = ?, chain_hash = ? WHERE position = ?",
                        (event_digest, chain, pos))
            previous = chain
    code, after = cli_verify(store)
    assert code == 0 and after["ledger_head"] != before["ledger_head"]  # undetectable inside
    done = rexian("--db", str(store.path), "verify", "--anchor", anchor, "--json")
    assert done.returncode == 1
    assert [p["kind"] for p in json.loads(done.stdout)["problems"]] == ["anchor"]
    assert rexian("--db", str(store.path), "verify", "--anchor", "12:nothex").returncode == 2


def test_an_untouched_store_passes_its_published_anchor(store: Store) -> None:
    _code, report = cli_verify(store)
    done = rexian("--db", str(store.path), "verify", "--anchor",
                  f"{report['ledger_position']}:{report['ledger_head']}")
    assert done.returncode == 0, done.stdout + done.stderr


# ----- snapshots -----------------------------------------------------------------------------
SNAPSHOT_EVERY = 50


@pytest.fixture
def long_order(store: Store) -> Iterator[str]:
    """An order with 52 events, so the engine has stored a snapshot at version 50."""
    engine = store.engine()
    s = engine.service
    ticket = intake(engine, "投诉", "工地夜间施工噪音扰民")
    s.dispatch(ticket, dept="区城管局", assist=[], actor=CENTRE)
    s.sign(ticket, dept="区城管局", actor=CITY)
    for n in range(24):
        s.request_extension(ticket, dept="区城管局", days=1, reason=f"第{n + 1}次协调", actor=CITY)
        s.deny_extension(ticket, reason="理由不充分", actor=CENTRE)
    s.resolve(ticket, dept="区城管局", reply="已责令停工整改", actor=CITY)
    assert s.show(ticket)["version"] == 52
    engine.close()
    yield ticket


def snapshot_versions(store: Store, ticket: str) -> list[int]:
    with store.connect() as con:
        return [r[0] for r in con.execute(
            f"SELECT originator_version FROM {store.snapshots_table} WHERE originator_id = ?",
            (order_id(ticket).hex,)).fetchall()]


def edit_snapshot(store: Store, ticket: str, version: int,
                  change: Callable[[dict[str, Any]], None]) -> None:
    with store.connect() as con:
        (state,) = con.execute(
            f"SELECT state FROM {store.snapshots_table} WHERE originator_id = ? AND "
            "originator_version = ?", (order_id(ticket).hex, version)).fetchone()
        body = json.loads(state)
        change(body["state"])
        con.execute(f"UPDATE {store.snapshots_table} SET state = ? WHERE originator_id = ? AND "
                    "originator_version = ?",
                    (json.dumps(body, ensure_ascii=False).encode(), order_id(ticket).hex,
                     version))


def test_a_long_order_has_a_snapshot_and_verifies_ok(store: Store, long_order: str) -> None:
    assert snapshot_versions(store, long_order) == [SNAPSHOT_EVERY]
    code, report = cli_verify(store)
    assert code == 0 and report["ok"], report
    assert engine_verify(store, long_order)["ok"]


def test_a_snapshot_taken_before_a_class_version_bump_still_verifies(
        store: Store, long_order: str) -> None:
    """An order snapshotted by an older engine (class_version 3: no sealed_text yet) is
    upcast when read, so verify does not take the upgrade for tampering."""
    def older(state: dict[str, Any]) -> None:
        state.pop("sealed_text")
        state["class_version"] = 3

    edit_snapshot(store, long_order, SNAPSHOT_EVERY, older)
    code, report = cli_verify(store)
    assert code == 0 and report["ok"], report
    # An old snapshot whose content was edited is still caught.
    edit_snapshot(store, long_order, SNAPSHOT_EVERY, lambda state: state.update(content="改"))
    assert_caught(store, long_order, SNAPSHOT_EVERY, "snapshot")


def test_editing_a_snapshot_changes_show_and_is_caught(store: Store, long_order: str) -> None:
    edit_snapshot(store, long_order, SNAPSHOT_EVERY,
                  lambda state: state.update(content="已撤诉", department="区水务局"))
    shown = show(store, long_order)
    assert shown["content"] == "已撤诉" and shown["department"] == "区水务局"
    report = assert_caught(store, long_order, SNAPSHOT_EVERY, "snapshot")
    assert {p["kind"] for p in report["problems"]} == {"snapshot"}


def test_a_forged_snapshot_ahead_of_the_stream_is_caught(store: Store, long_order: str) -> None:
    with store.connect() as con:
        (topic, state) = con.execute(
            f"SELECT topic, state FROM {store.snapshots_table} WHERE originator_id = ?",
            (order_id(long_order).hex,)).fetchone()
        body = json.loads(state)
        body["state"]["state"] = "已归档"
        con.execute(f"INSERT INTO {store.snapshots_table} (originator_id, originator_version, "
                    "topic, state) VALUES (?, 60, ?, ?)",
                    (order_id(long_order).hex, topic,
                     json.dumps(body, ensure_ascii=False).encode()))
    assert show(store, long_order)["version"] == 60
    assert_caught(store, long_order, 60, "snapshot")


def test_a_snapshot_of_an_order_that_has_no_events_is_caught(
        store: Store, long_order: str) -> None:
    ghost = "202510099999"
    with store.connect() as con:
        (topic, state) = con.execute(
            f"SELECT topic, state FROM {store.snapshots_table} WHERE originator_id = ?",
            (order_id(long_order).hex,)).fetchone()
        body = json.loads(state)
        body["state"]["ticket_no"] = ghost
        con.execute(f"INSERT INTO {store.snapshots_table} (originator_id, originator_version, "
                    "topic, state) VALUES (?, 50, ?, ?)",
                    (order_id(ghost).hex, topic, json.dumps(body, ensure_ascii=False).encode()))
    assert show(store, ghost)["ticket_no"] == ghost  # an order conjured out of a snapshot
    code, report = cli_verify(store)
    assert code == 1
    assert "snapshot" in problems_at(report, str(order_id(ghost)), 50) | problems_at(
        report, ghost, 50)


def test_deleting_a_snapshot_is_harmless(store: Store, long_order: str) -> None:
    before = show(store, long_order)
    execute(store, f"DELETE FROM {store.snapshots_table} WHERE originator_id = ?",
            (order_id(long_order).hex,))
    assert show(store, long_order) == before  # replayed from the events alone
    assert cli_verify(store)[0] == 0


# ----- history --as-of for auditors ------------------------------------------------------------
def invoke(*args: str, simulation: bool = False) -> tuple[int, str, str]:
    """The CLI in process (same Typer app as the `rexian` script; subprocesses cost 0.6 s)."""
    env = {"REXIAN_SIMULATION": "1" if simulation else None, "REXIAN_DB": None,
           "REXIAN_ROLE": None}
    result = CliRunner().invoke(cli_app, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_history_as_of_over_a_lifecycle_with_the_simulation_clock(tmp_path: Path) -> None:
    db = str(tmp_path / "history.db")

    def at(now: str, *args: str, role: str | None = None) -> dict[str, Any]:
        who = ["--role", role] if role else []
        code, out, err = invoke("--db", db, "--now", now, *who, *args, "--json",
                                simulation=True)
        assert code == 0, err
        result: dict[str, Any] = json.loads(out)
        return result

    ticket = at("2025-10-09T09:00:00", "intake", "--channel", "电话", "--category", "投诉",
                "--region", "甬江区东湖街道", "--caller-name", "李四",
                "--caller-phone", "13900139000", "--content", "人行道井盖缺失",
                role="agent")["ticket_no"]
    at("2025-10-09T09:20:00", "dispatch", ticket, "--dept", "区城管局", role="dispatcher")
    at("2025-10-09T10:05:00", "sign", ticket, "--dept", "区城管局")
    at("2025-10-10T09:00:00", "extend", ticket, "--dept", "区城管局", "--days", "3",
       "--reason", "需协调施工单位")
    at("2025-10-10T11:00:00", "approve-extension", ticket, "--note", "同意",
       role="supervisor")
    at("2025-10-13T16:00:00", "resolve", ticket, "--dept", "区城管局", "--reply", "井盖已补装")
    at("2025-10-14T10:00:00", "callback", ticket, "--result", "满意", role="agent")

    def history(*as_of: str) -> dict[str, Any]:
        code, out, err = invoke("--db", db, "history", ticket, *as_of, "--json")
        assert code == 0, err
        result: dict[str, Any] = json.loads(out)
        return result

    # Before intake: a clear error, exit 2 (the real `rexian` script, in a subprocess).
    done = rexian("--db", db, "history", ticket, "--as-of", "2025-10-09T08:59:59", "--json")
    assert done.returncode == 2
    error = json.loads(done.stdout)["error"]
    assert error["field"] == "as_of" and "尚未受理" in error["zh"]
    assert "did not exist yet" in error["en"] and "尚未受理" in done.stderr

    moments = [
        # as-of (Beijing time unless an offset is given), state, substate, events
        ("2025-10-09T09:00:00", "已受理", None, 1),  # an event at that very instant counts
        ("2025-10-09T09:19:59", "已受理", None, 1),
        ("2025-10-09T01:30:00+00:00", "已派单", None, 2),  # 09:30 Beijing
        ("2025-10-09T12:00:00", "办理中", "处理中", 3),
        ("2025-10-10T10:00:00", "办理中", "延期审批中", 4),
        ("2025-10-12T00:00:00", "办理中", "处理中", 5),
        ("2025-10-13T16:00:00", "已办结", None, 6),
        ("2025-10-20T00:00:00", "已归档", None, 7),
    ]
    for as_of, state, substate, count in moments:
        result = history("--as-of", as_of)
        assert (result["state"]["state"], result["state"]["substate"]) == (state, substate), as_of
        assert len(result["events"]) == count and result["state"]["version"] == count, as_of
        assert result["as_of"] is not None

    full = history()
    assert full["as_of"] is None and len(full["events"]) == 7
    # Who: the OS user running the CLI, in the role given (or the command's own).
    me, unit = f"local:{getpass.getuser()}", f"区城管局/local:{getpass.getuser()}"
    expected: list[tuple[int, str, str, str, str, dict[str, Any]]] = [
        # version, type, at (Beijing), role, id, what/why (details)
        (1, "Registered", "2025-10-09T09:00:00+08:00", "agent", me, {"content": "人行道井盖缺失"}),
        (2, "Dispatched", "2025-10-09T09:20:00+08:00", "dispatcher", me, {"dept": "区城管局"}),
        (3, "Signed", "2025-10-09T10:05:00+08:00", "department", unit, {}),
        (4, "ExtensionRequested", "2025-10-10T09:00:00+08:00", "department", unit,
         {"days": 3, "reason": "需协调施工单位"}),
        (5, "ExtensionApproved", "2025-10-10T11:00:00+08:00", "supervisor", me,
         {"note": "同意"}),
        (6, "Resolved", "2025-10-13T16:00:00+08:00", "department", unit,
         {"reply": "井盖已补装"}),
        (7, "CallbackArchived", "2025-10-14T10:00:00+08:00", "agent", me, {"result": "满意"}),
    ]
    for event, (version, kind, when, role, who, details) in zip(full["events"], expected,
                                                                strict=True):
        assert (event["version"], event["type"], event["at"]) == (version, kind, when)
        assert event["actor"] == {"role": role, "id": who}
        for key, value in details.items():
            assert event["details"][key] == value, (kind, key)
        # Personal data never appears in the audit trail.
        assert "personal" not in event["details"] and "citizen_id" not in event["details"]
    assert "13900139000" not in json.dumps(full, ensure_ascii=False)

    # The SLA state is judged at the as-of moment, not now (this test runs years later).
    assert history("--as-of", "2025-10-10T10:00:00")["state"]["sla_state"] == "正常"
    assert history()["state"]["sla_state"] is None  # archived: no clock

    # The as-of state is the state `show` reported at that moment.
    assert history("--as-of", "2025-10-13T16:00:00")["state"]["reply"] == "井盖已补装"
    assert history("--as-of", "2025-10-13T15:59:59")["state"]["reply"] is None

    # The text form tells an auditor who did what, when and why (the real script).
    text = rexian("--db", db, "history", ticket, "--as-of", "2025-10-10T10:00:00")
    assert text.returncode == 0, text.stderr
    assert "延期审批中" in text.stdout
    assert f"department:{unit}" in text.stdout and "理由：需协调施工单位" in text.stdout
    assert f"dispatcher:{me}" in text.stdout and "2025-10-10 09:00:00" in text.stdout
    assert "申请延期" in text.stdout  # what the event did, in words

    # Guard rails: --now needs simulation mode; bad instants and unknown orders exit 2.
    assert invoke("--db", db, "--now", "2025-10-09T09:00:00", "show", ticket)[0] == 2
    assert invoke("--db", db, "history", ticket, "--as-of", "yesterday")[0] == 2
    code, out, _err = invoke("--db", db, "history", "209901019999", "--as-of", "2025-10-10",
                             "--json")
    assert code == 2 and json.loads(out)["error"]["type"] == "UnknownTicket"
