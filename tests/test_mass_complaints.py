"""群诉预警: K similar orders from K distinct citizens of one area within the window raise one
MassComplaintAlert (actor system), grown as more arrive; one citizen calling K times raises
none; it reaches the supervising unit's gRPC feed; a rebuild re-raises nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.duplicates import DuplicateDesk, intake_advice
from domain.duplicates.alert import alert_ref
from domain.duplicates.clusters import Join, Neighbour, Raise, decide, linked
from domain.duplicates.settings import load_settings
from domain.values import Actor
from tests.conftest import SimClock
from tests.test_grpc_support import FeedReader, Running, dept_token, running_fixture

AGENT = Actor("agent", "a1")
EAST = "甬江区东湖街道"
K = load_settings().mass.min_citizens
ROOT = Path(__file__).resolve().parent.parent
PHRASINGS = (
    "幸福里小区门口的道路改造工程每天晚上施工到凌晨一点，噪音太大了，吵得没法睡觉",
    "反映幸福里小区那边道路改造工程夜里施工扰民，半夜十二点了还在干活",
    "我家住幸福里小区，道路改造工程晚上一直有很大的噪声，严重影响休息",
    "幸福里小区道路改造工程夜间施工噪音扰民，已经持续好几天了",
    "投诉幸福里小区的道路改造工程，半夜还在施工，声音很吵，老人小孩都睡不着",
    "幸福里小区道路改造夜里施工，吵得睡不着，希望管一管",
    "幸福里小区门口道路改造工程半夜施工，噪音扰民",
)


def intake(engine: Engine, n: int, *, phone: str | None = None, region: str = EAST) -> str:
    return engine.service.intake(
        channel="电话", category="投诉", urgency="一般", region=region,
        content=PHRASINGS[n % len(PHRASINGS)], caller_name="张三",
        caller_phone=phone or f"1380013{n:04d}", actor=AGENT)


def alert_events(engine: Engine, ref: str) -> list[str]:
    return [e["type"] for e in DuplicateDesk(engine).history(ref)["events"]]


def test_k_minus_one_citizens_raise_no_alert(engine: Engine) -> None:
    for n in range(K - 1):
        assert intake_advice(engine, intake(engine, n))["mass_complaint"] is None
    assert DuplicateDesk(engine).alerts() == []


def test_k_distinct_citizens_raise_one_alert_that_grows(engine: Engine) -> None:
    tickets = [intake(engine, n) for n in range(K)]
    done = DuplicateDesk(engine).scan()
    ref = alert_ref(tickets[-1])
    assert done == [{"ticket_no": tickets[-1], "alert": ref, "action": "raised",
                     "members": K, "citizens": K}]
    history = DuplicateDesk(engine).history(ref)
    assert [e["type"] for e in history["events"]] == ["Raised"]
    assert history["events"][0]["actor"] == {"role": "system", "id": "mass-complaint-detector"}
    assert history["state"]["members"] == tickets
    assert history["state"]["notify"] == {"东湖街道办事处": "area", "区政府": "supervision"}
    # One more similar order joins it; an unrelated one does not.
    more = intake(engine, K)
    other = engine.service.intake(channel="电话", category="投诉", urgency="一般", region=EAST,
                                  content="东湖花园北门垃圾房的垃圾好几天没人清运了",
                                  caller_name="李四", caller_phone="13900000001", actor=AGENT)
    assert intake_advice(engine, more)["mass_complaint"] == {
        "ticket_no": more, "alert": ref, "action": "grew", "members": K + 1,
        "citizens": K + 1}
    assert intake_advice(engine, other)["mass_complaint"] is None
    [listed] = DuplicateDesk(engine).alerts()
    assert (listed["alert"], listed["members"], listed["citizens"]) == (ref, K + 1, K + 1)
    assert listed["tickets"] == [*tickets, more]
    assert alert_events(engine, ref) == ["Raised", "Grew"]
    assert DuplicateDesk(engine).scan() == []  # examined once
    assert engine.verify().ok


def test_the_same_citizen_calling_k_times_raises_none(engine: Engine) -> None:
    for n in range(K + 1):
        intake(engine, n, phone="13800138000")
    assert DuplicateDesk(engine).scan() == []
    assert DuplicateDesk(engine).alerts() == []


def test_orders_outside_the_window_or_area_do_not_count(engine: Engine,
                                                        clock: SimClock) -> None:
    rules = load_settings().mass
    for n in range(K - 1):
        intake(engine, n)
    intake(engine, K - 1, region="甬江区西塘街道")
    assert DuplicateDesk(engine).scan() == []
    clock.advance(days=rules.window_days + 1)
    intake(engine, K)  # the first K-1 are too old now
    assert DuplicateDesk(engine).scan() == []


def test_rebuild_gives_the_same_alerts_and_raises_nothing_again(engine: Engine) -> None:
    for n in range(K + 1):
        intake(engine, n)
    desk = DuplicateDesk(engine)
    desk.scan()
    before = desk.alerts()
    assert len(before) == 1 and before[0]["members"] == K + 1
    engine.runners["duplicates"].rebuild()
    assert desk.alerts() == before
    assert desk.scan() == []
    assert alert_events(engine, before[0]["alert"]) == ["Raised", "Grew"]
    # Examining an order again (another process, a crash before the position moved)
    # records nothing either.
    engine.runners["duplicates"].catch_up()
    with engine.db.transaction() as cur:
        cur.execute("UPDATE rexian_dup_detector SET position = 0")
    assert desk.scan() == []
    assert alert_events(engine, before[0]["alert"]) == ["Raised", "Grew"]


def test_a_store_first_opened_with_orders_raises_nothing_about_the_past(
        tmp_path: Path, clock: SimClock) -> None:
    engine = build_engine(str(tmp_path / "r.db"), clock=clock)
    try:
        for n in range(K):
            intake(engine, n)
        with engine.db.transaction() as cur:  # as a store from before this feature
            cur.execute("DROP TABLE rexian_dup_detector")
    finally:
        engine.close()
    engine = build_engine(str(tmp_path / "r.db"), clock=clock)
    try:
        assert DuplicateDesk(engine).scan() == []
        assert len(DuplicateDesk(engine).candidates(intake(engine, K))["candidates"]) >= 1
    finally:
        engine.close()


def test_similarity_rows_are_computed_only_for_the_orders_a_link_reaches() -> None:
    from adapters.text_similarity import similarity_matrix

    texts = ["幸福里小区门口垃圾堆满了没人清运", "幸福里小区门口的垃圾好几天没人清运",
             "新河路上有个大坑", "银杏苑电梯坏了", "幸福里小区垃圾没人清运，臭气熏天"]
    rows = similarity_matrix(texts)
    assert linked(rows, 0.3) == [0, 1]
    assert sorted(rows._rows) == [0, 1, 4]  # the road and the lift were never scored
    full = [rows[i] for i in range(len(texts))]
    assert all(full[i][i] == 1.0 and full[i][j] == full[j][i]
               for i in range(len(texts)) for j in range(len(texts)))
    assert full[3][0] == 0.0 and full[4][0] > 0.3  # two estates named apart; one estate
    assert similarity_matrix(["！！", "？"])[1] == [0.0, 0.0]


def test_cluster_links_and_counts_distinct_known_citizens() -> None:
    # 0-1 and 1-3 alike, 2 alone; the new order (3) links to 1 and, through it, to 0.
    similarity = [[1.0, 0.5, 0.0, 0.1], [0.5, 1.0, 0.0, 0.4], [0.0, 0.0, 1.0, 0.1],
                  [0.1, 0.4, 0.1, 1.0]]
    assert linked(similarity, 0.3) == [0, 1]
    rules = replace(load_settings().mass, min_citizens=3)
    two = [Neighbour("1", "c1", 0.1, None), Neighbour("2", None, 0.4, None)]  # 2 erased
    assert decide("4", "c1", two, rules) is None  # c1 twice, the erased one unknown
    assert decide("4", "c3", [*two, Neighbour("5", "c4", 0.3, None)], rules) == \
        Raise(["1", "2", "5", "4"], 3)
    joined = decide("6", "c9", [Neighbour("1", "c1", 0.5, "QS1"),
                                Neighbour("2", "c2", 0.8, "QS2")], rules,
                    {"QS1": {"c1"}, "QS2": {"c2", "c5"}})
    assert joined == Join("QS2", 3)


@pytest.fixture
def running(tmp_path: Path, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield from running_fixture(engine)
    engine.close()


def test_the_alert_reaches_the_supervising_units_feed(running: Running) -> None:
    engine = running.engine
    supervisor = FeedReader(running.channel, dept_token(engine, "区政府"), "区政府", after=0)
    street = FeedReader(running.channel, dept_token(engine, "东湖街道办事处"), "东湖街道办事处",
                        after=0)
    tickets = [intake(engine, n) for n in range(K + 1)]
    DuplicateDesk(engine).scan()
    raised, grew = supervisor.wait_for(2)
    ref = alert_ref(tickets[K - 1])
    assert (raised.ticket_no, raised.type, raised.relation) == (ref, "Raised", "supervision")
    assert (grew.ticket_no, grew.type) == (ref, "Grew")
    assert raised.actor.role == "system"
    payload = json.loads(raised.payload_json)
    assert payload["members"] == tickets[:K] and payload["citizens"] == K
    assert "13800" not in raised.payload_json
    assert [(e.type, e.relation) for e in street.wait_for(2)] == [("Raised", "area"),
                                                                 ("Grew", "area")]


def test_cli_alerts_and_history(tmp_path: Path) -> None:
    db = tmp_path / "r.db"

    def rexian(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tools.cli", "--db", str(db), *args],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)

    last = None
    for n in range(K):
        last = json.loads(rexian(
            "intake", "--channel", "电话", "--category", "投诉", "--region", EAST,
            "--caller-name", "张三", "--caller-phone", f"1390000{n:04d}", "--content",
            PHRASINGS[n], "--json").stdout)
    assert last is not None and last["mass_complaint"]["action"] == "raised"
    ref = last["mass_complaint"]["alert"]
    [alert] = json.loads(rexian("duplicates", "alerts", "--json").stdout)
    assert alert["alert"] == ref and alert["citizens"] == K
    assert json.loads(rexian("duplicates", "alerts", "--area", "甬江区西塘街道", "--json").stdout) == []
    history = json.loads(rexian("history", ref, "--json").stdout)
    assert [e["type"] for e in history["events"]] == ["Raised"]
    assert json.loads(rexian("--role", "supervisor", "duplicates", "scan", "--json").stdout) == []
    refused = rexian("--role", "agent", "duplicates", "scan")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
