"""`rexian`: the command-line front end of the engine.

Global options come before the command: `rexian [--db URL] [--now ISO8601] COMMAND ...`.
With `--grpc HOST:PORT` the commands go to a running engine (`rexian serve`) over gRPC.
Exit codes: 0 success, 1 tampering found by `verify`, 2 bad input or illegal command.

Start-up time matters (every hotline script runs it per command): the store, the domain
service, gRPC and rich are imported by the commands that use them, not at import time.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import typer
from typer.main import get_command_name
from typer.models import OptionInfo
from typer.utils import get_params_from_function

from domain.access.roles import STAFF_ROLES, Identity
from domain.campaign.defaults import DEFAULT_LEASE_S
from domain.commands import CATALOGUE, CommandSpec, Field
from domain.duplicates.alert import is_alert_ref
from domain.errors import DomainError, InvalidInput, printable, shown
from domain.values import Actor, require_instant
from tools.cli_access import register as register_access
from tools.cli_base import Command, Group, JsonOpt
from tools.cli_calendar import register as register_calendar
from tools.cli_campaign import is_campaign_ref
from tools.cli_campaign import register as register_campaign
from tools.cli_dispatch import register as register_dispatch
from tools.cli_duplicates import register as register_duplicates
from tools.cli_kb import register as register_kb
from tools.cli_privacy import register as register_privacy
from tools.cli_projections import register as register_projections
from tools.cli_report import register as register_report

if TYPE_CHECKING:
    from rich.console import RenderableType

    from adapters.bootstrap import Engine


app = typer.Typer(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    help="Rexian 热线工单引擎 — event-sourced work orders for government service hotlines.",
)



@dataclass
class Context:
    db: str | None
    now: datetime | None
    role: str | None  # the role the local OS user acts in (None: the operation's default)
    departments: str | None
    grpc: str | None = None  # HOST:PORT of a running engine (remote mode)
    kek: str | None = None  # the key-encryption key file (None: $REXIAN_KEK_FILE, ./var)
    token: str | None = None  # the bearer token for --grpc (None: $REXIAN_TOKEN)
    tls_ca: str | None = None  # CA of the server's TLS certificate (None: $REXIAN_TLS_CA)
    identity: Identity | None = None  # who runs the current command, once authorised
    _engine: Engine | None = field(default=None, repr=False)

    def engine(self) -> Engine:
        if self._engine is None and self.grpc:
            # Remote mode: a facade with the Engine surface the commands use, over gRPC;
            # the server authenticates the token and acts as its identity.
            from adapters.grpc.client import ClientTls, RemoteEngine

            token = self.token or os.environ.get("REXIAN_TOKEN")
            if not token:
                raise InvalidInput("token", "远程命令需要访问令牌（--token 或 $REXIAN_TOKEN；"
                                   "用 rexian token issue 签发）",
                                   "remote commands need an access token (--token or "
                                   "$REXIAN_TOKEN; issue one with rexian token issue)")
            ca = self.tls_ca or os.environ.get("REXIAN_TLS_CA")
            try:
                tls = ClientTls.from_files(ca) if ca else None
            except OSError as error:
                raise InvalidInput("tls_ca", f"无法读取 CA 证书：{shown(error, 200)}",
                                   f"cannot read the CA certificate: {shown(error, 200)}"
                                   ) from None
            self._engine = cast("Engine", RemoteEngine(self.grpc, token=token, tls=tls))
        if self._engine is None:
            from domain.service import system_clock

            frozen = self.now
            clock: Callable[[], datetime] = (lambda: frozen) if frozen else system_clock
            self._engine = build_engine(self.db, clock=clock, departments_file=self.departments,
                                        kek_file=self.kek)
        return self._engine

    def authorise(self, engine: Engine, operation: str, dept: str | None = None) -> Identity:
        """The local OS user in the chosen role (or the operation's default), checked
        against the permission matrix; a refusal is logged and exits 2."""
        from domain.access.permissions import matrix
        from domain.access.roles import VIA_LOCAL

        role = self.role or os.environ.get("REXIAN_ROLE") or matrix().default_role(operation)
        if role not in STAFF_ROLES:
            raise InvalidInput("role", f"角色“{shown(role)}”无效，可选：{'、'.join(STAFF_ROLES)}",
                               f"invalid role {shown(role)!r}; expected one of "
                               f"{', '.join(STAFF_ROLES)}")
        who = Identity((role,), f"local:{os_user()}", dept if role == "department" else None,
                       via=VIA_LOCAL)
        self.identity = engine.access.authorize(who, operation)
        return self.identity

    def actor(self) -> Actor:
        """The recorded actor of the authorised command (never a name typed on the line).
        Remote commands send none: the server records its token's identity."""
        if self.grpc:
            return REMOTE_ACTOR
        assert self.identity is not None, "run(..., operation=...) authorises first"
        return self.identity.actor()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


# What a remote command passes where the local CLI passes its actor: never sent (the gRPC
# client builds requests without an actor; the server acts as the token's identity).
REMOTE_ACTOR = Actor("system", "remote-token-holder")


def os_user() -> str:
    """The OS account running the CLI (a uid when it has no name, e.g. in a container)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"


def build_engine(db_url: str | None, **options: Any) -> Engine:
    """adapters.bootstrap.build_engine, imported on first use (the store, eventsourcing and
    psycopg are most of the start-up time; --help and remote commands never need them)."""
    from adapters.bootstrap import build_engine as build

    return build(db_url, **options)


def parse_instant(text: str, field_name: str) -> datetime:
    """ISO 8601; a time without an offset is Beijing time (the hotline's clock)."""
    from domain.service import SHANGHAI

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field_name, f"时间格式无效：{text}（应为 ISO 8601）",
                           f"invalid {field_name} {text!r}: expected ISO 8601") from None
    return require_instant(field_name, value if value.tzinfo else value.replace(tzinfo=SHANGHAI))


def fail(error: DomainError, as_json: bool) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"error": {"type": type(error).__name__, "zh": error.zh,
                                         "en": error.en,
                                         "field": getattr(error, "field", None)}},
                              ensure_ascii=False))
    typer.echo(f"错误 / error: {error}", err=True)
    raise typer.Exit(2)


def emit(data: Any, as_json: bool, text: str | RenderableType) -> None:
    """JSON (byte for byte what scripts parse), or text / a rich renderable for people."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif isinstance(text, str):
        typer.echo(text)
    else:
        from tools.cli_render import print_out

        print_out(text)


def rendered(name: str) -> Callable[[Any], RenderableType]:
    """The renderer `name` of tools.cli_render, imported when people read the output
    (rich costs ~40 ms at start-up; a --json run never loads it)."""

    def render(result: Any) -> RenderableType:
        from tools import cli_render

        made: RenderableType = getattr(cli_render, name)(result)
        return made

    return render


def ctx_of(ctx: typer.Context) -> Context:
    obj: Context = ctx.obj
    return obj


def run(ctx: typer.Context, as_json: bool, action: Callable[[Engine], Any],
        text: Callable[[Any], str | RenderableType], operation: str | None = None,
        dept: str | None = None) -> Any:
    """Run one engine action as operation `operation` of the permission matrix (checked
    first, locally; a remote server checks its token itself); domain errors exit 2 with a
    bilingual message. `text` renders the result for people and is not called for --json."""
    context = ctx_of(ctx)
    try:
        engine = context.engine()
        if operation is not None and not context.grpc:
            context.authorise(engine, operation, dept)
        result = action(engine)
    except DomainError as error:
        fail(error, as_json)
    except Exception as error:
        # Imported here: the policy module pulls in the whole calendar (~80 ms at start-up).
        from domain.policies.policy_file import PolicyError

        if not isinstance(error, PolicyError):
            raise
        fail(InvalidInput("policy", f"策略文件错误：{error}", f"policy file error: {error}"),
             as_json)
    emit(result, as_json, "" if as_json else text(result))
    return result


def order_line(view: dict[str, Any]) -> str:
    sub = f"/{view['substate']}" if view.get("substate") else ""
    dept = f" 主办：{view['department']}" if view.get("department") else ""
    due = ""
    if view.get("due_at"):
        # A provisional deadline may still move when the year's notice is imported.
        mark = "（暂定日历）" if view.get("deadline_basis") == "provisional" else ""
        due = f" 期限：{view['due_at'][:16].replace('T', ' ')}{mark}"
    return f"{view['ticket_no']} {view['state']}{sub}{dept}{due}"


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help="sqlite path or postgresql:// URL "
                                          "(default: $REXIAN_DB or ./var/rexian.db)")] = None,
    now: Annotated[str | None, typer.Option("--now", metavar="ISO8601", help="Simulation clock (ISO 8601); "
                                           "only with REXIAN_SIMULATION=1")] = None,
    role: Annotated[str | None, typer.Option("--role", metavar="ROLE", help="The role you act "
                                            "in: agent, dispatcher, supervisor, auditor, "
                                            "department, robot, admin (default $REXIAN_ROLE, "
                                            "else the command's own; see docs/permissions.md)")
                    ] = None,
    token: Annotated[str | None, typer.Option("--token", metavar="TOKEN", help="Access token "
                                             "for --grpc (default $REXIAN_TOKEN)")] = None,
    tls_ca: Annotated[str | None, typer.Option("--tls-ca", metavar="FILE", help="With --grpc: "
                                              "talk TLS, trusting this CA certificate (PEM; "
                                              "default $REXIAN_TLS_CA)")] = None,
    departments: Annotated[str | None, typer.Option("--departments", metavar="FILE",
                                                   help="Department registry TOML")] = None,
    grpc: Annotated[str | None, typer.Option("--grpc", metavar="HOST:PORT",
                                            help="Talk to a running engine over gRPC "
                                            "instead of opening the store")] = None,
    kek: Annotated[str | None, typer.Option("--kek", metavar="FILE",
                                           help="Key-encryption key file (default: "
                                           "$REXIAN_KEK_FILE or ./var/rexian.kek)")] = None,
) -> None:
    frozen = None
    if grpc is not None and (now is not None or db is not None):
        fail(InvalidInput("grpc", "--grpc 不能与 --db 或 --now 同时使用（由服务端决定）",
                          "--grpc cannot be combined with --db or --now (the server's store and "
                          "clock apply)"),
             False)
    if now is not None:
        if os.environ.get("REXIAN_SIMULATION") != "1":
            fail(InvalidInput("now", "--now 仅在模拟模式（REXIAN_SIMULATION=1）下可用",
                              "--now is accepted only when REXIAN_SIMULATION=1"), False)
        try:
            frozen = parse_instant(now, "now")
        except DomainError as error:
            fail(error, False)
    context = Context(db=db, now=frozen, role=role, departments=departments, grpc=grpc,
                      kek=kek, token=token, tls_ca=tls_ca)
    ctx.obj = context
    ctx.call_on_close(context.close)


# ----- the lifecycle commands, generated from the catalogue -----------------------------
_PYTHON_TYPES: dict[str, Any] = {"text": str, "texts": list[str] | None, "int": int,
                                 "instant": str}
_METAVARS = {"text": "TEXT", "texts": "TEXT", "int": "N", "instant": "ISO8601"}
TicketArg = Annotated[str, typer.Argument(metavar="TICKET", help="工单号 / ticket number")]


def _cli_value(field_spec: Field, value: Any) -> Any:
    if field_spec.kind == "texts":
        return list(value or [])
    if field_spec.kind == "instant":
        return parse_instant(value, field_spec.name)
    return value


def _lifecycle_command(spec: CommandSpec) -> Callable[..., None]:
    """A typer command for one catalogue entry: TICKET (unless it makes one), one option
    per field, --json; it runs the entry through the service and prints the order."""

    def handler(ctx: typer.Context, **given: Any) -> None:
        as_json = bool(given.pop("as_json"))
        ticket = given.pop("ticket", None)

        def action(engine: Engine) -> dict[str, Any]:
            # Inside run(): a malformed instant or actor is a refusal (exit 2) like any other.
            values = {f.name: _cli_value(f, given[f.name]) for f in spec.fields}
            actor = ctx_of(ctx).actor()
            number = engine.service.execute(spec.name, ticket, actor=actor, **values)
            view = engine.service.show(number)
            if spec.name == "intake" and ctx_of(ctx).grpc:  # the server's reply has them
                view = cast("Any", engine.service).intake_view(number)
            elif spec.name == "intake":  # 并单建议, 群诉预警, 智能派单
                from adapters.intake_advice import intake_advice

                view = intake_advice(engine, number)
            return view

        run(ctx, as_json, action, order_line, operation=spec.name, dept=given.get("dept"))

    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=typer.Context)]
    if spec.ticket:
        params.append(inspect.Parameter("ticket", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        annotation=TicketArg))
    for f in spec.fields:
        option = typer.Option(f"--{f.name.replace('_', '-')}", metavar=_METAVARS[f.kind],
                              help=f"{f.label}: {f.help}")
        default: Any = inspect.Parameter.empty
        if not f.required:
            default = None if f.kind == "texts" else f.default
        params.append(inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        annotation=Annotated[_PYTHON_TYPES[f.kind], option],
                                        default=default))
    params.append(inspect.Parameter("as_json", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=JsonOpt, default=False))
    handler.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    handler.__name__ = spec.name
    handler.__doc__ = spec.summary
    return handler


for _spec in CATALOGUE:
    app.command(name=_spec.cli, help=_spec.summary, cls=Command)(_lifecycle_command(_spec))


def tick_engine(engine: Engine, on_progress: Callable[[int, int], None] | None = None
                ) -> dict[str, int]:
    """One deadline tick: the engine's own `tick()` when it has one (a RemoteEngine asks
    the server), else the local ticker over the engine's projection runners."""
    # Looked up on the class: RemoteEngine.__getattr__ refuses unknown attributes.
    if callable(getattr(type(engine), "tick", None)):
        counts: dict[str, int] = cast(Any, engine).tick()
        return counts
    from adapters.ticker import tick

    return tick(engine, on_progress)


@app.command(name="tick", cls=Command)
def tick_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Perform every due deadline step (临期/催办/超期督办/通报) once; print counts."""
    def text(counts: dict[str, int]) -> RenderableType:
        from adapters.ticker import COUNT_NAMES
        from tools.cli_render import tick_table

        return tick_table(counts, COUNT_NAMES)

    def action(engine: Engine) -> dict[str, int]:
        if as_json:
            return tick_engine(engine)
        from tools.cli_render import progress_reporter

        with progress_reporter("到期检查 / due steps") as report:
            return tick_engine(engine, report)

    run(ctx, as_json, action, text, operation="tick")


# ----- queries ------------------------------------------------------------------------
@app.command(cls=Command)
def show(ctx: typer.Context, ticket: TicketArg,
         reveal: Annotated[bool, typer.Option(
             "--reveal", help="Show personal data unmasked (roles that may; recorded in the "
             "access log)")] = False,
         reason: Annotated[str | None, typer.Option(
             "--reason", metavar="TEXT", help="Why you reveal it (mandatory with --reveal)")
         ] = None,
         as_json: JsonOpt = False) -> None:
    """Show one order (personal data masked unless --reveal --reason)."""

    def action(engine: Engine) -> dict[str, Any]:
        if not reveal:
            return engine.service.show(ticket)
        return engine.reveal_order(ticket, ctx_of(ctx).identity, reason)

    run(ctx, as_json, action, rendered("order_panel"), operation="show")


@app.command(cls=Command)
def history(ctx: typer.Context, ticket: TicketArg,
            as_of: Annotated[str | None, typer.Option("--as-of", metavar="ISO8601",
                                                     help="The moment to look at")] = None,
            as_json: JsonOpt = False) -> None:
    """The order as it was at a moment, and every event up to then (who, when, what, why)."""

    def action(engine: Engine) -> dict[str, Any]:
        moment = parse_instant(as_of, "as_of") if as_of else None
        if is_campaign_ref(ticket):  # a campaign or a contact (tools/cli_campaign.py)
            from adapters.campaigns import desk

            return desk(engine).service.history(ticket, moment)
        if is_alert_ref(ticket):  # a 群诉预警 (adapters/duplicates.py)
            from adapters.duplicates import DuplicateDesk

            return DuplicateDesk(engine).history(ticket, moment)
        if ticket.startswith("KB-"):  # a knowledge-base article (adapters/kb.py)
            from adapters.kb import kb_desk

            return kb_desk(engine).history(ticket, moment)
        if ticket.startswith("call:"):  # an inbound call's record (adapters/inbound/desk.py)
            from adapters.inbound.desk import inbound_desk

            return inbound_desk(engine).history(ticket.removeprefix("call:"), moment)
        return engine.read_history(ticket, moment, ctx_of(ctx).identity)

    def text(result: dict[str, Any]) -> RenderableType:
        from tools.cli_render import history_view

        return history_view(ticket, result)

    run(ctx, as_json, action, text, operation="as_of" if as_of else "history")


@app.command(name="list", cls=Command)
def list_(ctx: typer.Context,
          state: Annotated[str | None, typer.Option(metavar="STATE")] = None,
          dept: Annotated[str | None, typer.Option(metavar="UNIT")] = None,
          category: Annotated[str | None, typer.Option(metavar="CATEGORY")] = None,
          as_json: JsonOpt = False) -> None:
    """List orders by state, unit (lead or assisting) and category."""
    run(ctx, as_json, lambda e: e.list(state=state, dept=dept, category=category),
        rendered("order_table"), operation="list")


_ANCHOR = re.compile(r"([0-9]{1,18}):([0-9a-fA-F]{64})")


def parse_anchor(text: str) -> tuple[int, str]:
    """POSITION:HASH, ASCII digits and 64 hex digits (no other digits int() would take)."""
    match = _ANCHOR.fullmatch(text)
    if match is None:
        raise InvalidInput("anchor", f"锚点格式应为 位置:哈希（64位十六进制）：{shown(text)}",
                           f"anchor must be POSITION:HASH (64 hex digits): {shown(text)}")
    return int(match.group(1)), match.group(2).lower()


@app.command(cls=Command)
def verify(ctx: typer.Context,
           ticket: Annotated[str | None, typer.Argument(
               metavar="TICKET", help="Check only this order")] = None,
           anchor: Annotated[list[str] | None, typer.Option(
               metavar="POSITION:HASH",
               help="A published ledger head to check (repeatable)")] = None,
           as_json: JsonOpt = False) -> None:
    """Check the hash chains and the audit ledger; exit 1 when tampering is found."""
    anchors = []
    for text_anchor in anchor or []:
        try:
            anchors.append(parse_anchor(text_anchor))
        except InvalidInput as error:
            fail(error, as_json)

    def text(report: dict[str, Any]) -> RenderableType:
        from tools.cli_render import verify_view

        return verify_view(report, anchors)

    def action(engine: Engine) -> dict[str, Any]:
        if as_json:  # scripts: no bar, and no rich import
            return engine.verify(ticket, anchors).as_dict()
        from tools.cli_render import progress_reporter

        with progress_reporter("完整性校验 / verifying") as report:
            return engine.verify(ticket, anchors, on_progress=report).as_dict()

    result = run(ctx, as_json, action, text, operation="verify")
    if not result["ok"]:
        raise typer.Exit(1)


@app.command(cls=Command)
def departments(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the units of the department registry."""
    def action(engine: Engine) -> list[dict[str, Any]]:
        return [{"name": d.name, "region": d.region, "supervisor": d.supervisor,
                 "duty_phone": d.duty_phone} for d in engine.departments.all()]

    run(ctx, as_json, action, rendered("departments_table"), operation="departments")


@app.command(cls=Command)
def serve(
    ctx: typer.Context,
    grpc_address: Annotated[str, typer.Option("--grpc", help="gRPC listen address")] =
    "127.0.0.1:50051",
    kafka: Annotated[str | None, typer.Option("--kafka", help="Kafka bootstrap HOST:PORT: "
                                             "start the event relay and telephony consumer")] = None,
    interval: Annotated[float, typer.Option(help="Seconds between deadline ticks")] = 1.0,
    gateway: Annotated[str | None, typer.Option(
        "--gateway", help="Media gateway signalling URL (http://HOST:PORT): the callback "
        "robot dials due callbacks, reminders and campaign calls through it, and the "
        "inbound robot answers the calls waiting there")] = None,
    call_lease: Annotated[float, typer.Option(
        "--call-lease", min=5.0, help="Seconds a campaign call's claim on its contact lasts; "
        "a call left without an outcome (its serve was killed) is resolved once it "
        "expires")] = DEFAULT_LEASE_S,
    tls_cert: Annotated[str | None, typer.Option(
        "--tls-cert", metavar="FILE", help="Serve gRPC over TLS with this certificate chain "
        "(PEM)")] = None,
    tls_key: Annotated[str | None, typer.Option(
        "--tls-key", metavar="FILE", help="The TLS private key (PEM)")] = None,
    tls_client_ca: Annotated[str | None, typer.Option(
        "--tls-client-ca", metavar="FILE", help="Mutual TLS: require client certificates "
        "signed by this CA (PEM)")] = None,
    http: Annotated[str | None, typer.Option(
        "--http", metavar="HOST:PORT", help="Serve the web console (adapters/http) here, e.g. "
        "127.0.0.1:8080 (`make run` does)")] = None,
) -> None:
    """Run the engine: gRPC server, (with --http) the web console, deadline ticker, (with
    --kafka) the Kafka relay and (with --gateway) the callback robot's dialler and the
    inbound robot."""
    import signal

    from adapters.campaigns import desk as campaign_desk
    from adapters.grpc.server import serve_grpc
    from adapters.ticker import tick

    context = ctx_of(ctx)
    if context.grpc:
        fail(InvalidInput("grpc", "serve 在本地运行引擎，不能与全局 --grpc 同用",
                          "serve runs the engine locally; do not combine it with the "
                          "global --grpc option"), False)
    try:
        engine = context.engine()
        if gateway and engine.vault.locked:
            # Without the KEK every citizen would look unreachable: the robot would record
            # 无法联系 for callbacks it simply cannot decrypt the number of.
            raise InvalidInput("gateway", "回访机器人需要个人信息（电话号码），但密钥加密密钥不可用："
                               f"{engine.vault.describe()}",
                               "the callback robot needs personal data (phone numbers) and "
                               f"the key-encryption key is unavailable: {engine.vault.describe()}")
        tls = None
        if tls_cert or tls_key or tls_client_ca:
            from adapters.grpc.server import ServerTls

            if not (tls_cert and tls_key):
                raise InvalidInput("tls", "TLS 需要同时提供 --tls-cert 和 --tls-key",
                                   "TLS needs both --tls-cert and --tls-key")
            tls = ServerTls.from_files(tls_cert, tls_key, tls_client_ca)
        from adapters.dispatch import RetrainSchedule  # the dispatch model, continued

        retrain = RetrainSchedule(engine)  # a bad config/dispatch.toml: exit 2 here
        server, port = serve_grpc(engine, grpc_address, tls=tls)
        console = None
        if http:
            from adapters.http.server import serve_http

            try:
                console = serve_http(engine, http)
            except (DomainError, OSError):
                server.stop()
                raise
    except (DomainError, OSError) as error:
        typer.echo(f"错误 / error: {error}", err=True)
        raise typer.Exit(2) from None
    handle = None
    if kafka:
        from adapters.kafka.runtime import start_kafka

        try:
            handle = start_kafka(engine, kafka)
        except Exception as error:  # noqa: BLE001 - any broker failure: report and exit
            server.stop()
            typer.echo(f"错误 / error: Kafka {kafka}: {error}", err=True)
            raise typer.Exit(2) from None

    dialler = pickup = None
    inbound_off = ""
    if gateway:
        from adapters.telephony.campaign_dialler import CampaignCaller
        from adapters.telephony.dialler import Dialler, dial_due
        from adapters.telephony.inbound_pickup import InboundPickup
        from adapters.telephony.tts import SpeechUnavailable

        dialler = Dialler(gateway)
        campaign_caller = CampaignCaller(engine, dialler, lease_s=call_lease)
        try:
            pickup = InboundPickup(engine, dialler)
        except SpeechUnavailable as error:  # the callbacks speak from clips: they go on
            inbound_off = f" ({error})"

    def stop_on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    host = grpc_address.rsplit(":", 1)[0]
    typer.echo(f"Rexian engine — data: {engine.config.display}")
    typer.echo(f"Personal data: {engine.vault.describe()}")
    typer.echo(f"gRPC: {host}:{port}"
               + (" (TLS" + (", client certificates required)" if tls_client_ca else ")")
                  if tls_cert else " (no TLS)"))
    typer.echo(f"Web console: {console.url}/" if console else "Web console: off")
    typer.echo(f"Kafka: {kafka} (relay + telephony consumer)" if kafka else "Kafka: off")
    typer.echo(f"Callback robot: dialling via {gateway} (callbacks, reminders, campaigns; "
               f"call claims {call_lease:g} s)" if gateway else "Callback robot: off")
    typer.echo(f"Inbound robot: answering the calls waiting at {gateway}" if pickup
               else f"Inbound robot: off{inbound_off}")
    typer.echo(f"Dispatch model: continued incrementally every {retrain.every_hours:g} h"
               if retrain.every_hours else "Dispatch model: retraining off")
    typer.echo("Ctrl-C to stop.", err=False)
    try:
        while True:
            counts = tick(engine)
            if any(counts.values()):
                typer.echo(f"tick: {counts}")
            if dialler is not None:
                dial_due(engine, dialler)
            if pickup is not None:
                pickup.poll()
            said = retrain.poll()
            if said:
                typer.echo(said)
            try:  # with no calls, campaigns still begin, complete and lose expired claims
                counts = (campaign_caller.tick() if dialler is not None  # the places left
                          else campaign_desk(engine).tick(lease_s=call_lease))
            except DomainError as error:  # e.g. the calendar lacks this year: say, go on
                counts = {}
                typer.echo(f"campaigns: 错误 / error: {error}", err=True)
            if any(counts.values()):
                typer.echo(f"campaigns: {counts}")
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        # Stop intake first (gRPC), then drain Kafka: everything stored gets published.
        server.stop()
        if console is not None:
            console.stop()
        if pickup is not None:
            pickup.close()
        if dialler is not None:
            dialler.close()  # calls in progress finish and record their results
        if handle is not None:
            handle.stop()
        typer.echo("stopped cleanly")


# ----- working-day calendar -----------------------------------------------------------
register_calendar(app, run, ctx_of)
register_projections(app, run)
register_privacy(app, run, ctx_of)
register_report(app, run, ctx_of)
register_access(app, run, ctx_of, parse_instant)
register_campaign(app)
register_duplicates(app, run)
register_dispatch(app, run, ctx_of)
register_kb(app, run, ctx_of)


# ----- speech recognition -------------------------------------------------------------
asr_app = typer.Typer(cls=Group, no_args_is_help=True, help="Speech recognition (whisper.cpp) as the "
                      "callback robot hears it.")
app.add_typer(asr_app, name="asr")


@asr_app.command(name="classify", cls=Command)
def asr_classify(
    files: Annotated[list[str], typer.Argument(help="16 kHz mono WAV files (others converted)")],
    as_json: JsonOpt = False,
) -> None:
    """Transcribe each answer and classify it: 满意/基本满意/不满意/转人工/未识别.

    One object per file; a file that cannot be read gets an `error` instead, and the exit
    code is then 2 (the other files are still classified).
    """
    from adapters.asr.intent import classify_answer
    from adapters.asr.whisper import AudioError, ModelNotFoundError, WhisperRecognizer

    try:
        recognizer = WhisperRecognizer()
    except ModelNotFoundError as error:
        fail(InvalidInput("model", f"语音识别模型缺失：{error}", str(error)), as_json)
    from tools.cli_render import progress

    results: list[dict[str, Any]] = []
    # Whisper takes about half a second a file: a bar on a terminal, nothing in a pipe.
    for name in progress(files, len(files), "识别 / transcribing"):
        try:
            intent, heard = classify_answer(recognizer, name)
        except (AudioError, FileNotFoundError, IsADirectoryError) as error:
            results.append({"file": name, "error": f"音频无法读取 / unreadable audio: {error}"})
            continue
        results.append({"file": name, "transcript": heard.text, "intent": intent.intent,
                        "audio_s": round(heard.audio_seconds, 3),
                        "asr_s": round(heard.asr_seconds + heard.scoring_seconds, 3),
                        "reason": intent.reason})
    for item in results:
        if as_json:
            typer.echo(json.dumps(item, ensure_ascii=False))
        elif "error" in item:
            typer.echo(f"{printable(item['file'])}\t错误 / error: {printable(item['error'])}",
                       err=True)
        else:  # file names and transcripts are anyone's text: escaped, never raw controls
            typer.echo(f"{printable(item['file'])}\t{item['intent']}\t"
                       f"“{printable(item['transcript'])}”\t"
                       f"{item['audio_s']} s audio, {item['asr_s']} s")
    if any("error" in item for item in results):
        raise typer.Exit(2)


# ----- drills (whole loops on a throwaway store) ----------------------------------------
drill_app = typer.Typer(cls=Group, no_args_is_help=True, help="Drills: whole loops in one process on a "
                        "throwaway store (演练).")
app.add_typer(drill_app, name="drill")


@drill_app.command(name="callback", cls=Command)
def drill_callback(
    ctx: typer.Context,
    answer: Annotated[list[str], typer.Option(
        "--answer", help="WAV the simulated citizen answers with (repeat for later turns)")],
    outcome: Annotated[str, typer.Option(
        help="Dial outcome: answered/no_answer/busy/空号/停机")] = "answered",
    category: Annotated[str, typer.Option(help="Category of the drill order")] = "投诉",
    as_json: JsonOpt = False,
) -> None:
    """回访演练: register, dispatch, sign, resolve; the robot calls a simulated citizen over
    WebRTC on loopback; the answer is transcribed, classified and recorded."""
    from pathlib import Path

    from tools.drill import run_callback_drill

    def text(r: dict[str, Any]) -> str:
        return (f"工单 {r['ticket_no']} 回访：{r['dial_outcome']}，识别“{r['transcript']}”→"
                f"{r['intent']}，结果 {r['result'] or '未记录'}；"
                f"{order_line(r['show'])}")

    from adapters.asr.whisper import ModelNotFoundError
    from adapters.telephony.signalling import OUTCOMES

    if outcome not in OUTCOMES:
        fail(InvalidInput("outcome", f"外呼结果“{outcome}”无效，可选：{'、'.join(OUTCOMES)}",
                          f"invalid outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}"),
             as_json)
    try:
        result = run_callback_drill([Path(a) for a in answer], now=ctx_of(ctx).now,
                                    outcome=outcome, category=category)
    except ModelNotFoundError as error:
        fail(InvalidInput("model", f"语音识别模型缺失：{error}", str(error)), as_json)
    except FileNotFoundError as error:
        fail(InvalidInput("answer", f"找不到应答音频：{error}", str(error)), as_json)
    except DomainError as error:
        fail(error, as_json)
    emit(result, as_json, text(result))


@drill_app.command(name="inbound", cls=Command)
def drill_inbound(
    ctx: typer.Context,
    question: Annotated[list[str], typer.Option(
        "--question", help="WAV of what the caller says (repeat for later turns)")],
    caller: Annotated[str, typer.Option(help="The caller's number")] = "13800138000",
    line: Annotated[str, typer.Option(help="The line dialled (config/inbound.toml)")] = "12345",
    kb: Annotated[list[str] | None, typer.Option(
        "--kb", help="Knowledge-base file(s) to import (default config/kb/*.md)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """呼入演练: an inbound call on a throwaway store; each WAV is transcribed, understood and
    answered from the knowledge base (or handed off), and every turn recorded."""
    from pathlib import Path

    from adapters.asr.whisper import AudioError, ModelNotFoundError
    from tools.drill_inbound import run_inbound_drill

    def text(r: dict[str, Any]) -> str:
        lines = [f"来电 {r['line']}：{r['record']['outcome']}"]
        for t in r["turns"]:
            heard = f"“{t['transcript']}”→{t['intent']}：" if "transcript" in t else ""
            lines.append(f"  {heard}{t['step']} {''.join(t['said'])}")
        return "\n".join(lines)

    try:
        result = run_inbound_drill([Path(q) for q in question], now=ctx_of(ctx).now,
                                   caller=caller, line=line,
                                   kb_files=[Path(k) for k in kb] if kb else None)
    except ModelNotFoundError as error:
        fail(InvalidInput("model", f"语音识别模型缺失：{error}", str(error)), as_json)
    except FileNotFoundError as error:
        fail(InvalidInput("question", f"找不到问题音频：{error}", str(error)), as_json)
    except AudioError as error:
        fail(InvalidInput("question", f"问题音频无法读取：{error}", str(error)), as_json)
    except DomainError as error:
        fail(error, as_json)
    emit(result, as_json, text(result))


def _value_options() -> set[str]:
    """The global options that take a value (--db URL ...), read from main_options."""
    params = get_params_from_function(main_options).values()  # as typer reads them
    return {str(decl) for param in params if isinstance(param.default, OptionInfo)
            for decl in param.default.param_decls or ()}


def _command_name(argv: Sequence[str]) -> str | None:
    """The command `argv` runs, when global options (and nothing else) come before it."""
    takes_value = _value_options()
    args = iter(argv)
    for arg in args:
        if arg in takes_value:
            next(args, None)
        elif not (arg.startswith("-") and arg.partition("=")[0] in takes_value):
            return None if arg.startswith("-") else arg  # --help first: the whole app
    return None


def app_for(argv: Sequence[str]) -> typer.Typer:
    """`app` with only the command (or group) `argv` names: typer builds the click
    parameters of every command it holds, ~25 ms of each run for all of them. Anything
    else (help, a typo that deserves suggestions) gets the whole `app`."""
    name = _command_name(argv)
    commands = [c for c in app.registered_commands if c.callback is not None
                and (c.name or get_command_name(c.callback.__name__)) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands, narrowed.registered_groups = commands, groups
    return narrowed


def main() -> None:
    try:
        app_for(sys.argv[1:])()
    except DomainError as error:  # raised outside a command's own handler
        typer.echo(f"错误 / error: {error}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
