"""DispatchService: the suggestions, training and catalogue of `rexian suggest` / `rexian
catalogue` over gRPC, on SQLite and PostgreSQL (the model is stored in the store); bad input
INVALID_ARGUMENT naming it, no token UNAUTHENTICATED, a unit's token PERMISSION_DENIED.
TicketService.Intake's reply carries what `rexian intake --json` does: the suggestions, the
candidate duplicates (merged in one step) and the optional auto-dispatch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from typer.testing import CliRunner

from adapters.bootstrap import build_engine
from adapters.dispatch import desk
from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2 as dispatch_pb
from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2_grpc as dispatch_grpc
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from domain.values import Actor
from tests.conftest import SimClock
from tests.test_dispatch_suggest import dispatched, history_from_corpus, intake
from tests.test_grpc_support import CENTRE_TOKEN, Running, running_fixture
from tools.cli import app
from tools.make_dispatch_corpus import CATALOGUE


@pytest.fixture
def running(db_url: str, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(db_url, clock=clock)
    yield from running_fixture(engine)
    engine.close()


def test_catalogue_training_and_suggestions(running: Running) -> None:
    stub = dispatch_grpc.DispatchServiceStub(running.channel)
    centre = running.centre
    with pytest.raises(grpc.RpcError) as err:
        stub.Suggest(dispatch_pb.SuggestRequest(content="停水", category="投诉", region="甬江区"),
                     metadata=centre)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no dispatch catalogue" in err.value.details()
    imported = stub.ImportCatalogue(dispatch_pb.ImportCatalogueRequest(
        file_name="catalogue.csv", content=CATALOGUE.read_bytes()), metadata=centre)
    assert imported.action == "imported" and imported.summary.version == 1
    assert imported.summary.items == 72 and imported.summary.imported_by.endswith(":centre")
    listed = stub.ListCatalogue(dispatch_pb.ListCatalogueRequest(version=1), metadata=centre)
    assert len(listed.items) == 72 and listed.items[54].lead == "东湖街道办事处"
    bad = CATALOGUE.read_text(encoding="utf-8").replace(",区水务局,", ",区火星局,", 1)
    with pytest.raises(grpc.RpcError) as err:
        stub.ImportCatalogue(dispatch_pb.ImportCatalogueRequest(
            file_name="bad.csv", content=bad.encode()), metadata=centre)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "区火星局" in err.value.details() and "row 9" in err.value.details()
    engine = running.engine
    history_from_corpus(engine, every=6)
    dispatched(engine, "河里漂着一层油花", "区生态环境分局", returned_by="区水务局")
    trained = stub.Train(dispatch_pb.TrainRequest(), metadata=centre)
    assert trained.model == 1 and trained.orders > 200 and trained.trained_by.endswith("centre")
    assert desk(engine).model() is not None
    answer = stub.Suggest(dispatch_pb.SuggestRequest(
        content="楼道里堆满了纸箱，消防通道都堵了", category="投诉", region="甬江区西塘街道"),
        metadata=centre)
    first = answer.suggestions[0]
    assert first.dept == "西塘街道办事处" and first.item == "YJ059" and "YJ059" in first.reason
    assert 1 <= len(answer.suggestions) <= 3
    ticket = intake(engine, "老板拖欠工资三个月了", "甬江区")
    order = stub.SuggestForOrder(dispatch_pb.SuggestForOrderRequest(ticket_no=ticket),
                                 metadata=centre)
    assert order.ticket_no == ticket and order.suggestions[0].dept == "区人社局"


def test_grpc_intake_carries_suggestions_duplicates_and_the_auto_dispatch(
        running: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, t, centre = running.engine, running.tickets, running.centre

    def take(content: str, phone: str) -> ticket_pb.IntakeResponse:
        reply: ticket_pb.IntakeResponse = t.Intake(ticket_pb.IntakeRequest(
            channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
            content=content, caller_name="张三", caller_phone=phone), metadata=centre)
        return reply

    bare = take("幸福里小区门口的路灯坏了好几天，晚上黑漆漆的", "13800138000")
    assert not bare.dispatch_suggestions and not bare.duplicate_candidates  # no catalogue
    assert not bare.HasField("auto_dispatched") and not bare.HasField("mass_complaint")
    desk(engine).import_catalogue(CATALOGUE, actor=Actor("admin", "ops"))
    first = take("楼下饭店油烟太大，烧烤油烟熏人，窗户都不敢开", "13800138001")
    no = first.ticket.ticket_no
    expected = desk(engine).suggest_order(no)["suggestions"]
    assert [(s.dept, round(s.score, 6), s.reason) for s in first.dispatch_suggestions] == [
        (s["dept"], round(s["score"], 6), s["reason"]) for s in expected]
    assert first.dispatch_suggestions[0].dept == "区城管局"
    assert "YJ049" in first.dispatch_suggestions[0].reason
    assert first.ticket.state == "已受理" and not first.HasField("auto_dispatched")
    again = take("楼下那家饭店烧烤油烟太大了，熏得人受不了", "13800138002")
    candidate = again.duplicate_candidates[0]
    assert candidate.ticket_no == no and candidate.score >= 0.22 and not candidate.same_citizen
    merge = candidate.merge.split()
    assert merge[:5] == ["rexian", "merge", again.ticket.ticket_no, "--into", no]
    merged = t.Merge(ticket_pb.MergeRequest(ticket_no=merge[2], into=merge[4],
                                            reason=merge[6]), metadata=centre)  # 并单, one step
    assert merged.ticket.state == "已合并"
    # The auto-dispatch policy applies to gRPC intakes too (robot actor, suggestion recorded).
    policy = tmp_path / "dispatch.toml"
    policy.write_text("[auto_dispatch]\nenabled = true\nthreshold = 0.3\nmargin = 0.1\n",
                      encoding="utf-8")
    monkeypatch.setenv("REXIAN_DISPATCH_FILE", str(policy))
    auto = take("和平路上的店家油烟直排，烧烤油烟很大", "13800138003")
    assert auto.auto_dispatched == auto.dispatch_suggestions[0].dept == "区城管局"
    assert auto.ticket.state == "已派单" and auto.ticket.department == "区城管局"
    events = engine.service.history(auto.ticket.ticket_no)["events"]
    assert [e["type"] for e in events[-2:]] == ["DispatchSuggested", "Dispatched"]
    assert events[-1]["actor"] == {"role": "robot", "id": "auto-dispatch"}
    bulk = t.Intake(ticket_pb.IntakeRequest(
        channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
        content="和平路上的店家油烟直排，烧烤油烟很大", caller_name="张三",
        caller_phone="13800138005", skip_advice=True), metadata=centre)  # a bulk load
    assert bulk.ticket.state == "已受理" and not bulk.HasField("auto_dispatched")
    assert not bulk.dispatch_suggestions and not bulk.duplicate_candidates
    policy.write_text("[auto_dispatch]\nenabled = 1\n", encoding="utf-8")
    spoilt = take("和平路上的店家油烟直排", "13800138004")  # reported; the order stays
    assert "enabled" in spoilt.dispatch_advice_error.en and spoilt.ticket.state == "已受理"


def test_bad_requests_and_callers_are_refused(running: Running) -> None:
    stub = dispatch_grpc.DispatchServiceStub(running.channel)
    stub.ImportCatalogue(dispatch_pb.ImportCatalogueRequest(
        file_name="c.csv", content=CATALOGUE.read_bytes()), metadata=running.centre)
    for request, named in (
            (dispatch_pb.SuggestRequest(content="", category="投诉", region="甬江区"), "content"),
            (dispatch_pb.SuggestRequest(content="停水", category="聊天", region="甬江区"),
             "category"),
            (dispatch_pb.SuggestRequest(content="停\x07水", category="投诉", region="甬江区"),
             "content")):
        with pytest.raises(grpc.RpcError) as err:
            stub.Suggest(request, metadata=running.centre)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert named in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.ImportCatalogue(dispatch_pb.ImportCatalogueRequest(
            file_name="c.xlsx", content=b"\x00\x01not a workbook"), metadata=running.centre)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "XLSX" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.Train(dispatch_pb.TrainRequest(), metadata=running.centre)
    assert "not enough dispatch history" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.ListCatalogue(dispatch_pb.ListCatalogueRequest(version=7), metadata=running.centre)
    assert "no version 7" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.ListCatalogue(dispatch_pb.ListCatalogueRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as err:
        stub.Suggest(dispatch_pb.SuggestRequest(content="停水", category="投诉", region="甬江区"),
                     metadata=running.dept("区水务局"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_cli_over_grpc(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REXIAN_TOKEN", CENTRE_TOKEN)
    remote = ["--grpc", f"127.0.0.1:{running.port}"]
    cli = CliRunner()
    done = cli.invoke(app, [*remote, "catalogue", "import", str(CATALOGUE), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["version"] == 1
    local = desk(running.engine).list_catalogue()
    listed = cli.invoke(app, [*remote, "catalogue", "list", "--json"])
    assert json.loads(listed.stdout) == local
    asked = cli.invoke(app, [*remote, "suggest", "--content", "家里自来水停了也没通知",
                             "--category", "投诉", "--region", "甬江区", "--json"])
    assert json.loads(asked.stdout) == desk(running.engine).suggest(
        content="家里自来水停了也没通知", category="投诉", region="甬江区")
    bad = cli.invoke(app, [*remote, "suggest", "--content", "停水", "--category", "闲聊",
                           "--region", "甬江区"])
    assert bad.exit_code == 2 and "闲聊" in bad.output
    # `rexian --grpc … intake --json` shows what the server replied: the same keys and
    # values as a local intake's JSON (a candidate's merge as its command line only).
    taken = []
    for phone in ("13800138010", "13800138011"):
        made = cli.invoke(app, [*remote, "intake", "--channel", "电话", "--category", "投诉",
                                "--region", "甬江区", "--caller-name", "张三",
                                "--caller-phone", phone, "--content",
                                "家里自来水停了一天了也没通知", "--json"])
        assert made.exit_code == 0, made.output
        taken.append(json.loads(made.stdout))
    first, second = taken
    assert second["dispatch_suggestions"] == desk(running.engine).suggest_order(
        second["ticket_no"])["suggestions"]
    assert second["dispatch_suggestions"][0]["dept"] == "区水务局"
    assert first["duplicate_candidates"] == [] and first["mass_complaint"] is None
    candidate = second["duplicate_candidates"][0]
    assert candidate["ticket_no"] == first["ticket_no"]
    assert candidate["merge"] == (f"rexian merge {second['ticket_no']} --into "
                                  f"{first['ticket_no']} --reason 重复诉求（并单建议）")
    from adapters.duplicates import DuplicateDesk

    here = DuplicateDesk(running.engine).candidates(second["ticket_no"])["candidates"][0]
    assert candidate == {k: v for k, v in here.items() if k != "merge_order"}
    assert second["auto_dispatched"] is None and second["state"] == "已受理"
