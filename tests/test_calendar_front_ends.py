"""`rexian calendar import/show`, the provisional mark in `show`, and CalendarService over
gRPC, on the real CLI and a real in-process gRPC server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from adapters.bootstrap import build_engine
from adapters.grpc.gen.rexian.calendar.v1 import calendar_service_pb2 as cal_pb
from adapters.grpc.gen.rexian.calendar.v1 import calendar_service_pb2_grpc as cal_grpc
from tests.conftest import SimClock
from tests.test_cli import ok, rexian
from tests.test_grpc_support import Running, running_fixture

NOTICES = Path(__file__).parent / "fixtures" / "notices"
SAMPLE = NOTICES / "2027-样例.txt"
NOW = "2026-12-15T10:00:00"


def test_cli_marks_a_provisional_deadline_then_imports_and_revises(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    order = ok(db, NOW, "intake", "--channel", "电话", "--category", "投诉", "--region",
               "甬江区东湖街道", "--caller-name", "张三", "--caller-phone", "13800138000",
               "--content", "夜间施工噪音扰民")
    ticket = order["ticket_no"]
    view = ok(db, NOW, "dispatch", ticket, "--dept", "区城管局")
    assert view["deadline_basis"] == "provisional"
    human = rexian(db, "show", ticket, now=NOW)
    assert human.returncode == 0 and "暂定日历" in human.stdout and "2027-01-06" in human.stdout

    shown = ok(db, NOW, "calendar", "show", "2027")
    assert shown["basis"] == "provisional" and shown["working_weekends"] == []
    grid = rexian(db, "calendar", "show", "2027", now=NOW)
    assert grid.returncode == 0 and "2027 年工作日历" in grid.stdout and "暂定" in grid.stdout

    bad = rexian(db, "calendar", "import", str(NOTICES / "2027-矛盾.txt"), "--json", now=NOW)
    assert bad.returncode == 2 and "第 8 行" in bad.stderr and "Traceback" not in bad.stderr
    assert json.loads(bad.stdout)["error"]["field"] == "notice"
    missing = rexian(db, "calendar", "import", str(tmp_path / "nope.txt"), now=NOW)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    assert rexian(db, "calendar", "import", str(binary), now=NOW).returncode == 2

    done = ok(db, NOW, "calendar", "import", str(SAMPLE))
    assert (done["year"], done["action"], done["version"]) == (2027, "imported", 1)
    assert ok(db, NOW, "calendar", "import", str(SAMPLE))["action"] == "unchanged"
    refused = rexian(db, "calendar", "import", str(NOTICES / "2027-样例修订.txt"), now=NOW)
    assert refused.returncode == 2 and "--replace" in refused.stderr

    counts = ok(db, "2026-12-15T11:00:00", "tick")
    assert counts["revised"] == 1
    assert ok(db, "2026-12-15T11:00:01", "tick")["revised"] == 0
    after = ok(db, NOW, "show", ticket)
    assert after["deadline_basis"] == "official" and after["due_at"] == "2027-01-06T23:59:59+08:00"
    history = ok(db, NOW, "history", ticket)
    revision = [e for e in history["events"] if e["type"] == "DeadlineRevised"]
    assert len(revision) == 1 and "2027年" in revision[0]["details"]["reason"]
    assert ok(db, NOW, "calendar", "show", "2027")["basis"] == "official"
    assert rexian(db, "verify", now=NOW).returncode == 0  # imports are sealed like events


@pytest.fixture
def running(tmp_path: Path, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield from running_fixture(engine)
    engine.close()


def test_grpc_calendar_service(running: Running, clock: SimClock) -> None:
    stub = cal_grpc.CalendarServiceStub(running.channel)
    year = stub.GetYear(cal_pb.GetYearRequest(year=2026), metadata=running.centre)
    assert year.basis == "official" and "2026-02-14" in year.working_weekends
    with pytest.raises(grpc.RpcError) as err:
        stub.GetYear(cal_pb.GetYearRequest(year=1990), metadata=running.centre)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        stub.ImportNotice(cal_pb.ImportNoticeRequest(
            text=(NOTICES / "2027-矛盾.txt").read_text(encoding="utf-8")), metadata=running.centre)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "8" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.ImportNotice(cal_pb.ImportNoticeRequest(text=SAMPLE.read_text(encoding="utf-8")))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    done = stub.ImportNotice(cal_pb.ImportNoticeRequest(text=SAMPLE.read_text(encoding="utf-8")),
                             metadata=running.centre)
    assert (done.year, done.action, done.version, len(done.festivals)) == (2027, "imported", 1, 7)
    assert stub.GetYear(cal_pb.GetYearRequest(year=2027), metadata=running.centre).basis == \
        "official"


def test_department_feed_payload_carries_the_deadline_basis(tmp_path: Path,
                                                            clock: SimClock) -> None:
    from adapters.grpc.feed import payload_of
    from domain.values import Actor
    from domain.workorder import order_id

    engine = build_engine(str(tmp_path / "feed.db"), clock=clock)
    try:
        clock.set(NOW)
        ticket = engine.service.intake(
            channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
            content="夜间施工噪音扰民", caller_name="张三", caller_phone="13800138000",
            actor=Actor("agent", "A1"))
        engine.service.dispatch(ticket, dept="区城管局", assist=[],
                                actor=Actor("dispatcher", "centre"))
        dispatched = list(engine.service.events.get(order_id(ticket)))[-1]
        payload = payload_of(dispatched)
        assert payload["deadline_basis"] == "provisional"
        assert payload["calendar"]["2027"].startswith("provisional:")
    finally:
        engine.close()
