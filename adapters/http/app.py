"""The console's routes: pages (HTML shells filled by static/console.js) and the JSON APIs
behind them, every one authenticated and checked against the permission matrix."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from fastapi import FastAPI, Query, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.concurrency import run_in_threadpool

from adapters.http import board
from adapters.http.pages import page
from adapters.http.panels import report_panels
from adapters.http.sessions import COOKIE, CSRF_HEADER, Sessions, bearer
from adapters.kb import kb_desk
from adapters.report_files import FORMATS, file_name, report_file
from adapters.reports import build_report, report_day
from domain.access.access_log import TARGET_ORDER
from domain.access.roles import Identity
from domain.errors import (
    DomainError,
    InvalidInput,
    PermissionDenied,
    Unauthenticated,
    UnknownTicket,
)
from domain.values import Actor, require_ticket_no
from domain.views import iso

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

STATIC: Final = Path(__file__).parent / "static"
ECHARTS: Final = Path(__file__).resolve().parents[2] / "node_modules/echarts/dist/echarts.min.js"
# How often a live stream looks at the notification log (and notices a closed browser).
POLL_SECONDS: Final = 0.5
# The commands the console runs (the order page's 派单 and 并单), and the reads the order
# page offers beside them; /api/me says which of them the caller may.
COMMANDS: Final = ("dispatch", "merge")
ORDER_TOOLS: Final = (*COMMANDS, "suggest", "duplicates")
STATUS: Final = ((Unauthenticated, 401), (PermissionDenied, 403), (UnknownTicket, 404),
                 (InvalidInput, 400), (DomainError, 409))


class Console:
    """The console's state: the engine, the sessions, the live streams now open."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.access = engine.access
        self.sessions = Sessions()
        self.streams = 0  # open server-sent-event generators (tests watch it drop to 0)

    def identity(self, request: Request, operation: str) -> Identity:
        """The caller (bearer header, else the session cookie), allowed `operation`."""
        token = bearer(request.headers.get("authorization"))
        if token is None:
            session = self.sessions.get(request.cookies.get(COOKIE))
            token = session.token if session else None
        who = self.access.authenticate(token, operation=operation)
        self.access.authorize(who, operation)
        return who

    def actor(self, request: Request, operation: str) -> Actor:
        """For a command: the caller's actor, in the role the matrix grants `operation` under
        (the record is who authenticated). A session's request must carry the session's CSRF
        value in its header; a bearer token's needs none (no browser sends it by itself)."""
        who = self.identity(request, operation)
        if bearer(request.headers.get("authorization")) is None:
            session = self.sessions.get(request.cookies.get(COOKIE))
            sent = request.headers.get(CSRF_HEADER, "")
            if session is None or not hmac.compare_digest(sent, session.csrf):
                raise self.access.deny(who, operation, ("缺少或错误的 CSRF 校验值",
                                                        "missing or wrong CSRF value"))
        return self.access.matrix.check(who, operation).actor()

    def may(self, who: Identity) -> list[str]:
        return [op for op in ORDER_TOOLS
                if any(self.access.matrix.allows(role, op) for role in who.roles)]

    def order_view(self, who: Identity, ticket_no: str) -> dict[str, Any]:
        """The masked order; a unit sees only orders it leads or assists on."""
        self.access.authorize(who, "show", target_kind=TARGET_ORDER, target=ticket_no)
        view = self.engine.service.show(ticket_no)
        if "department" in who.roles and who.dept not in (
                view["department"], *view["assist_departments"]):
            raise self.access.deny(who, "show", (f"工单 {ticket_no} 不属于本单位",
                                                 f"order {ticket_no} is not this unit's"),
                                   target_kind=TARGET_ORDER, target=ticket_no)
        return view


def error_response(error: DomainError) -> JSONResponse:
    status = next(code for kind, code in STATUS if isinstance(error, kind))
    return JSONResponse({"error": type(error).__name__, "zh": error.zh, "en": error.en},
                        status_code=status)


def create_app(engine: Engine) -> FastAPI:
    """The console on `engine`."""
    app = FastAPI(title="Rexian 控制台", docs_url=None, redoc_url=None, openapi_url=None)
    console = Console(engine)
    app.state.console = console

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if request.url.path.startswith("/api/") or not isinstance(error, Unauthenticated):
            return error_response(error)
        return RedirectResponse("/login", status_code=303)

    # ----- session ----------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def login_page() -> str:
        return page("login", "登录", None, "")

    @app.post("/api/login")
    async def login(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return error_response(InvalidInput("content-type", "登录请求须为 JSON",
                                               "the login request must be JSON"))
        try:
            body = await request.json()
        except ValueError:
            body = None
        token = body.get("token") if isinstance(body, dict) else None
        token = token.strip() if isinstance(token, str) else None

        def check() -> Identity:
            who = console.access.authenticate(token, operation="console")
            console.access.authorize(who, "console")
            return who

        who = await run_in_threadpool(check)
        assert token is not None  # authenticate refused a missing one
        sid, _session = console.sessions.open(token)
        response = JSONResponse(me(who, console))
        response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
        return response

    @app.post("/api/logout")
    def logout(request: Request) -> Response:
        sid = request.cookies.get(COOKIE)
        session = console.sessions.get(sid)
        if session is not None and request.headers.get(CSRF_HEADER) != session.csrf:
            return error_response(PermissionDenied("缺少或错误的 CSRF 校验值",
                                                   "missing or wrong CSRF value"))
        console.sessions.close(sid)
        response = JSONResponse({"logged_out": True})
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/api/me")
    def whoami(request: Request) -> dict[str, Any]:
        return me(console.identity(request, "console"), console)

    # ----- pages ------------------------------------------------------------------------
    def shell(request: Request, name: str, title: str, operation: str = "console") -> str:
        who = console.identity(request, operation)
        session = console.sessions.get(request.cookies.get(COOKIE))
        return page(name, title, who, session.csrf if session else "")

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        who = console.identity(request, "console")
        if "department" in who.roles:
            return RedirectResponse("/worklists", status_code=303)
        return HTMLResponse(shell(request, "overview", "总览", "dashboard"))

    @app.get("/worklists", response_class=HTMLResponse)
    def worklists(request: Request) -> str:
        return shell(request, "worklists", "工作清单")

    @app.get("/orders/{ticket_no}", response_class=HTMLResponse)
    def order_page(request: Request, ticket_no: str) -> str:
        return shell(request, "order", "工单")

    @app.get("/reports", response_class=HTMLResponse)
    def reports_page(request: Request) -> str:
        return shell(request, "reports", "报表", "report")

    @app.get("/kb", response_class=HTMLResponse)
    def kb_page(request: Request) -> str:
        return shell(request, "kb", "知识库", "kb_read")

    @app.get("/static/echarts.min.js")
    def echarts() -> FileResponse:
        return FileResponse(ECHARTS, media_type="text/javascript")

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        path = STATIC / name
        if "/" in name or not path.is_file():
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(path)

    # ----- JSON APIs --------------------------------------------------------------------
    @app.get("/api/dashboard")
    def dashboard(request: Request) -> dict[str, Any]:
        who = console.identity(request, "dashboard")
        result: dict[str, Any] = {
            "generated_at": iso(engine.service.now()),
            "open_by_state": board.open_by_state(engine),
            "ladder": board.ladder_counts(engine),
            **board.near_due_and_overdue(engine),
            "callback_queue": board.callback_queue(engine),
            "campaigns": board.campaigns(engine),
        }
        result.update(report_panels(engine, identity=who))
        return result

    @app.get("/api/worklists/dispatch")
    def pending_dispatch(request: Request) -> dict[str, Any]:
        console.identity(request, "pending_dispatch")
        return {"orders": board.pending_dispatch(engine)}

    @app.get("/api/worklists/unit")
    def unit_orders(request: Request, dept: str | None = None) -> dict[str, Any]:
        who = console.identity(request, "unit_orders")
        if "department" in who.roles:
            if dept and dept != who.dept:
                raise console.access.deny(who, "unit_orders", (
                    f"不能查看“{dept}”的工单", f"may not see the orders of {dept}"))
            dept = who.dept
        if not dept:
            raise InvalidInput("dept", "请指定单位（dept）", "name the unit (dept)")
        engine.departments.get(dept)  # an unknown unit is refused, naming it
        return {"dept": dept, "orders": board.unit_orders(engine, dept)}

    @app.get("/api/worklists/ladder")
    def ladder(request: Request) -> dict[str, Any]:
        console.identity(request, "ladder")
        return {"counts": board.ladder_counts(engine), "orders": board.ladder_orders(engine)}

    @app.get("/api/departments")
    def departments(request: Request) -> dict[str, Any]:
        console.identity(request, "departments")
        return {"departments": [d.name for d in engine.departments.all()]}

    @app.get("/api/orders/{ticket_no}")
    def order(request: Request, ticket_no: str) -> dict[str, Any]:
        ticket_no = require_ticket_no(ticket_no)
        who = console.identity(request, "show")
        return console.order_view(who, ticket_no)

    @app.get("/api/orders/{ticket_no}/suggestions")
    def suggestions(request: Request, ticket_no: str) -> dict[str, Any]:
        """智能派单: the order's top units with scores and reasons (rexian suggest T)."""
        from adapters.dispatch import desk

        ticket_no = require_ticket_no(ticket_no)
        console.identity(request, "suggest")
        return desk(engine).suggest_order(ticket_no)

    @app.get("/api/orders/{ticket_no}/duplicates")
    def duplicates(request: Request, ticket_no: str) -> dict[str, Any]:
        """并单建议: the open orders of the order's area that read alike (rexian duplicates T),
        each with the merge that joins the later into the earlier."""
        from adapters.duplicates import DuplicateDesk

        ticket_no = require_ticket_no(ticket_no)
        console.identity(request, "duplicates")
        return DuplicateDesk(engine).candidates(ticket_no)

    @app.post("/api/orders/{ticket_no}/dispatch")
    async def dispatch(request: Request, ticket_no: str) -> dict[str, Any]:
        """派单 (rexian dispatch T --dept D --assist A ...): the order afterwards."""
        actor = await run_in_threadpool(console.actor, request, "dispatch")
        ticket_no = require_ticket_no(ticket_no)
        body = await command_body(request)
        dept = text_field(body, "dept", "承办单位")
        assist = body.get("assist", [])
        if not isinstance(assist, list) or not all(isinstance(a, str) for a in assist):
            raise InvalidInput("assist", "协办单位应为单位名称的列表",
                               "assist must be a list of unit names")
        return await run_in_threadpool(command, "dispatch", ticket_no, actor, dept=dept,
                                       assist=assist)

    @app.post("/api/orders/{ticket_no}/merge")
    async def merge(request: Request, ticket_no: str) -> dict[str, Any]:
        """并单 (rexian merge T --into M --reason R): the merged order afterwards."""
        actor = await run_in_threadpool(console.actor, request, "merge")
        ticket_no = require_ticket_no(ticket_no)
        body = await command_body(request)
        into = require_ticket_no(text_field(body, "into", "主工单号"), "into")
        return await run_in_threadpool(command, "merge", ticket_no, actor, into=into,
                                       reason=text_field(body, "reason", "理由"))

    def command(name: str, ticket_no: str, actor: Actor, **fields: Any) -> dict[str, Any]:
        engine.service.execute(name, ticket_no, actor=actor, **fields)
        result: dict[str, Any] = engine.service.show(ticket_no)
        return result

    @app.get("/api/orders/{ticket_no}/history")
    def history(request: Request, ticket_no: str, as_of: str | None = None) -> dict[str, Any]:
        ticket_no = require_ticket_no(ticket_no)
        operation = "as_of" if as_of else "history"
        who = console.identity(request, operation)
        console.order_view(who, ticket_no)
        return engine.read_history(ticket_no, instant(as_of), who)

    @app.get("/api/orders/{ticket_no}/verify")
    def verify(request: Request, ticket_no: str) -> dict[str, Any]:
        ticket_no = require_ticket_no(ticket_no)
        console.identity(request, "verify")
        engine.service.load(ticket_no)  # an unknown order is 404, not "verified: 0 events"
        result: dict[str, Any] = engine.verify(ticket_no).as_dict()
        return result

    @app.get("/api/report")
    def report_api(request: Request, date_from: str | None = Query(None, alias="from"),
                   date_to: str | None = Query(None, alias="to"), by: str | None = None) -> Any:
        who = console.identity(request, "report")
        return build_report(engine, report_day("from", date_from), report_day("to", date_to),
                            by or None, identity=who)

    @app.get("/api/report/download")
    def report_download(request: Request, date_from: str | None = Query(None, alias="from"),
                        date_to: str | None = Query(None, alias="to"), by: str | None = None,
                        format: str = "csv") -> Response:
        """The same report as a CSV or XLSX file (what `rexian report --csv/--xlsx` writes)."""
        who = console.identity(request, "report")
        if format not in FORMATS:
            raise InvalidInput("format", f"未知格式“{format[:20]}”，可选：csv、xlsx",
                               f"unknown format {format[:20]!r}; expected csv or xlsx")
        result = build_report(engine, report_day("from", date_from), report_day("to", date_to),
                        by or None, identity=who)
        return Response(report_file(result, format), media_type=FORMATS[format], headers={
            "content-disposition": f'attachment; filename="{file_name(result, format)}"',
            "cache-control": "no-store"})

    @app.get("/api/kb/search")
    def kb_search(request: Request, text: str = "", limit: int = 5) -> dict[str, Any]:
        """Agent assist: the valid articles that best answer what the caller said so far."""
        console.identity(request, "kb_read")
        result: dict[str, Any] = kb_desk(engine).search(text, limit=limit)
        return result

    @app.get("/api/events")
    async def events(request: Request) -> StreamingResponse:
        await run_in_threadpool(console.identity, request, "console")
        return StreamingResponse(live(request, console), media_type="text/event-stream",
                                 headers={"cache-control": "no-store"})

    return app


async def live(request: Request, console: Console) -> AsyncIterator[str]:
    """Server-sent events: `changed` whenever the notification log grows. It carries only
    the log position, no order data: each page then asks its own (checked) API again, so a
    unit never learns of another unit's orders. Ends when the browser goes away."""
    recorder = console.engine.service.recorder
    console.streams += 1
    try:
        last = await asyncio.to_thread(recorder.max_notification_id) or 0
        yield f"event: hello\ndata: {json.dumps({'position': last})}\n\n"
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            position = await asyncio.to_thread(recorder.max_notification_id) or 0
            if position != last:
                last = position
                yield f"event: changed\ndata: {json.dumps({'position': last})}\n\n"
    finally:
        console.streams -= 1


def me(who: Identity, console: Console) -> dict[str, Any]:
    """Who is logged in, and which of the order page's tools they may use."""
    return {"id": who.id, "roles": list(who.roles), "dept": who.dept,
            "may": console.may(who)}


async def command_body(request: Request) -> dict[str, Any]:
    """A command's JSON object (only JSON: a cross-site form cannot send it unasked)."""
    if request.headers.get("content-type", "").split(";")[0] != "application/json":
        raise InvalidInput("content-type", "命令请求须为 JSON", "a command request must be JSON")
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InvalidInput("body", "命令请求须为 JSON 对象", "a command request must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, label: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(name, f"{label}不能为空", f"{name} must be a non-empty text")
    return value


def instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("as_of", f"时间格式不对：{text[:40]}（应为 ISO 8601）",
                           f"bad instant {text[:40]!r} (ISO 8601 expected)") from None
    if value.tzinfo is None:
        raise InvalidInput("as_of", "时间须带时区（如 +08:00）",
                           "the instant needs a time zone (e.g. +08:00)")
    return value
