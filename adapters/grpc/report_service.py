"""ReportService: `rexian report`'s figures over gRPC (adapters/reports.py's build_report).

Centre staff allowed `report` read every unit; a unit's token reads only its own figures
(build_report limits a department identity), so one service serves both kinds of caller."""

from __future__ import annotations

from typing import Any

from grpc import ServicerContext as Ctx

from adapters.grpc.auth import Authenticator
from adapters.grpc.errors import unary
from adapters.grpc.gen.rexian.report.v1 import report_service_pb2 as report_pb
from adapters.grpc.gen.rexian.report.v1 import report_service_pb2_grpc as report_grpc
from adapters.reports import build_report, report_day
from domain.kpi.registry import KPIS


def report_message(report: dict[str, Any]) -> report_pb.GetReportResponse:
    """build_report's dict as its message (the JSON shape, field for field)."""
    response = report_pb.GetReportResponse(date_from=report["from"], date_to=report["to"])
    if report["by"] is not None:
        response.by = report["by"]
    for row in report["rows"]:
        message = response.rows.add(group=row["group"])
        for name, f in row["kpis"].items():
            figure = message.kpis[name]
            figure.numerator, figure.denominator = f["numerator"], f["denominator"]
            if f["rate"] is not None:
                figure.rate = f["rate"]
    return response


def report_dict(response: report_pb.GetReportResponse) -> dict[str, Any]:
    """The message back as `rexian report --json` prints it (kpis in the registry's order)."""
    order = {k.name: i for i, k in enumerate(KPIS)}
    return {"from": response.date_from, "to": response.date_to,
            "by": response.by if response.HasField("by") else None,
            "rows": [{"group": row.group, "kpis": {
                name: {"numerator": f.numerator, "denominator": f.denominator,
                       "rate": f.rate if f.HasField("rate") else None}
                for name, f in sorted(row.kpis.items(), key=lambda kv: order.get(kv[0], 99))}}
                for row in response.rows]}


class ReportService(report_grpc.ReportServiceServicer):
    def __init__(self, engine: Any, auth: Authenticator) -> None:
        self.engine = engine
        self.auth = auth

    @unary()
    def GetReport(self, request: report_pb.GetReportRequest, context: Ctx) -> Any:
        who = self.auth.identity(context, "report")
        self.auth.access.authorize(who, "report")
        report = build_report(self.engine, report_day("date_from", request.date_from),
                              report_day("date_to", request.date_to),
                              request.by if request.HasField("by") else None, identity=who)
        return report_message(report)

    @unary()
    def ListKpis(self, request: report_pb.ListKpisRequest, context: Ctx) -> Any:
        who = self.auth.identity(context, "report")
        self.auth.access.authorize(who, "report")
        return report_pb.ListKpisResponse(kpis=[
            report_pb.Kpi(name=k.name, label=k.label, formula=k.formula, by_dept=k.by_dept)
            for k in KPIS])
