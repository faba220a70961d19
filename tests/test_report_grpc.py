"""ReportService: the same figures as `rexian report --json` and /api/report, for a centre
token (every unit) and a unit's token (its own figures only); bad periods refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import grpc
import pytest
from typer.testing import CliRunner

from adapters.bootstrap import Engine, build_engine
from adapters.grpc.gen.rexian.report.v1 import report_service_pb2 as report_pb
from adapters.grpc.gen.rexian.report.v1 import report_service_pb2_grpc as report_grpc
from adapters.grpc.report_service import report_dict
from adapters.reports import build_report
from domain.access.roles import Identity
from domain.kpi.registry import KPIS
from tests.conftest import SimClock
from tests.test_grpc_support import CENTRE_TOKEN, Running, grant, md, running_fixture
from tests.test_kpi_report import LEAD, OTHER, mixed_store
from tools.cli import app

FIRST, LAST = date(2025, 11, 1), date(2026, 1, 31)


@pytest.fixture
def running(db_url: str, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(db_url, clock=clock)
    mixed_store(engine, clock)
    yield from running_fixture(engine)
    engine.close()


def get(stub: report_grpc.ReportServiceStub, metadata: tuple[tuple[str, str], ...],
        first: str = FIRST.isoformat(), last: str = LAST.isoformat(),
        by: str | None = None) -> dict[str, object]:
    request = report_pb.GetReportRequest(date_from=first, date_to=last)
    if by is not None:
        request.by = by
    return report_dict(stub.GetReport(request, metadata=metadata))


def test_report_service_equals_build_report(running: Running) -> None:
    stub = report_grpc.ReportServiceStub(running.channel)
    engine: Engine = running.engine
    for by in (None, "dept", "category", "region", "channel"):
        assert get(stub, running.centre, by=by) == build_report(engine, FIRST, LAST, by)
    # Figures really travel: the unit rows are not empty.
    lead = next(r for r in get(stub, running.centre, by="dept")["rows"]  # type: ignore[union-attr]
                if r["group"] == LEAD)
    assert lead["kpis"]["on_time_resolution_rate"]["denominator"] > 0
    kpis = stub.ListKpis(report_pb.ListKpisRequest(), metadata=running.centre).kpis
    assert [(k.name, k.label, k.formula, k.by_dept) for k in kpis] == \
        [(k.name, k.label, k.formula, k.by_dept) for k in KPIS]


def test_a_unit_reads_only_its_own_figures(running: Running) -> None:
    stub = report_grpc.ReportServiceStub(running.channel)
    own = get(stub, running.dept(OTHER))
    assert own == build_report(running.engine, FIRST, LAST, None,
                               identity=Identity(roles=("department",), id=OTHER, dept=OTHER))
    everyone = build_report(running.engine, FIRST, LAST, "dept")
    other = next(r for r in everyone["rows"] if r["group"] == OTHER)["kpis"]
    assert own["rows"][0]["kpis"]["return_rate"] == other["return_rate"]  # type: ignore[index]
    # Asking by unit still shows only its own row.
    rows = get(stub, running.dept(OTHER), by="dept")["rows"]
    assert [r["group"] for r in rows] == [OTHER]  # type: ignore[union-attr]


def test_bad_requests_are_refused(running: Running) -> None:
    stub = report_grpc.ReportServiceStub(running.channel)
    cases = (("2025-1-1", "2025-01-31", None, "date_from"),
             ("2025-01-01", "明天", None, "date_to"),
             ("2025-02-01", "2025-01-01", None, "晚于"),
             ("2025-01-01", "2025-01-31", "weather", "unknown grouping"))
    for first, last, by, named in cases:
        with pytest.raises(grpc.RpcError) as err:
            get(stub, running.centre, first, last, by)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert named in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        get(stub, ())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    robot = grant(running.engine, "rx1_" + "r" * 43, ("robot",), "robot-1")
    with pytest.raises(grpc.RpcError) as err:
        get(stub, md(robot))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_cli_report_over_grpc(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REXIAN_TOKEN", CENTRE_TOKEN)
    remote = ["--grpc", f"127.0.0.1:{running.port}"]
    done = CliRunner().invoke(app, [*remote, "report", "--from", FIRST.isoformat(), "--to",
                                    LAST.isoformat(), "--by", "region", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == build_report(running.engine, FIRST, LAST, "region")
    bad = CliRunner().invoke(app, [*remote, "report", "--from", "2025-02-01", "--to",
                                   "2025-01-01"])
    assert bad.exit_code == 2 and "晚于" in bad.output
