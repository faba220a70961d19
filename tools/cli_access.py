"""`rexian token issue|revoke|list` (staff credentials) and `rexian audit reads` (the
access log). Tokens are printed once, at issue; the store keeps only their hash."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tools.cli_base import Command, Group, JsonOpt

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

token_app = typer.Typer(cls=Group, no_args_is_help=True, help="Staff access tokens (访问令牌): "
                        "issued once, stored as a hash, revocable.")
audit_app = typer.Typer(cls=Group, no_args_is_help=True, help="The access log (访问日志): reveals, "
                        "auditors' reads and refusals.")


def issued_text(result: dict[str, Any]) -> str:
    bound = f" 单位 / unit {result['dept']}" if result["dept"] else ""
    until = f"，有效期至 / expires {result['expires_at']}" if result["expires_at"] else ""
    return (f"{result['token']}\n令牌只显示这一次，请妥善保存 / shown once, keep it safe: "
            f"{'+'.join(result['roles'])}:{result['id']}{bound}{until} (token id {result['token_id']})")


def entries_text(rows: list[dict[str, Any]]) -> str:
    from domain.errors import printable

    if not rows:
        return "（无记录 / no entries）"
    lines = [f"{r['at']}  {r['actor_role']}:{r['actor_id']}  {r['action']}  {r['operation']}  "
             f"{r['target_kind']} {r['target']}  {r['reason'] or '—'}  {r['detail']}"
             for r in rows]
    return printable("\n".join(lines))


def register(app: typer.Typer, run: Any, ctx_of: Any, parse_instant: Any) -> None:
    """Add `token ...` and `audit reads` to the CLI (tools.cli's `run`, `ctx_of`)."""
    app.add_typer(token_app, name="token")
    app.add_typer(audit_app, name="audit")

    @token_app.command(name="issue", cls=Command)
    def issue(ctx: typer.Context,
              role: Annotated[list[str], typer.Option("--role", metavar="ROLE", help=(
                  "agent/dispatcher/supervisor/auditor/department/robot/admin (repeatable: "
                  "one person, several roles)"))],
              staff_id: Annotated[str, typer.Option("--id", metavar="ID",
                                                    help="工号/标识: who holds it")],
              dept: Annotated[str | None, typer.Option(
                  "--dept", metavar="UNIT", help="The unit a department token is bound to")
              ] = None,
              expires: Annotated[str | None, typer.Option(
                  "--expires", metavar="ISO8601", help="When it stops working")] = None,
              as_json: JsonOpt = False) -> None:
        """Issue a token (printed once: {"token": ...}); only its hash is stored."""

        def action(engine: Engine) -> dict[str, Any]:
            until = parse_instant(expires, "expires") if expires else None
            result: dict[str, Any] = engine.access.issue(
                roles=role, staff_id=staff_id, dept=dept, expires_at=until,
                actor=ctx_of(ctx).actor())
            engine.catch_up()
            return result

        run(ctx, as_json, action, issued_text, operation="tokens")

    @token_app.command(name="revoke", cls=Command)
    def revoke(ctx: typer.Context,
               token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID",
                                                       help="The token id from issue/list")],
               reason: Annotated[str, typer.Option("--reason", metavar="TEXT",
                                                   help="Why (mandatory)")],
               as_json: JsonOpt = False) -> None:
        """Revoke a token: it stops working at once in this process, within seconds in
        others on the same store."""

        def action(engine: Engine) -> dict[str, Any]:
            result: dict[str, Any] = engine.access.revoke(token_id, reason=reason,
                                                          actor=ctx_of(ctx).actor())
            engine.catch_up()
            return result

        run(ctx, as_json, action,
            lambda r: f"已吊销 / revoked: {r['token_id']} ({'+'.join(r['roles'])}:{r['id']})",
            operation="tokens")

    @token_app.command(name="list", cls=Command)
    def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
        """Every token issued: holder, role, unit, expiry, revoked (never the token)."""

        def action(engine: Engine) -> list[dict[str, Any]]:
            from projections.access_log import credentials

            engine.runners["access_log"].catch_up()
            return credentials(engine.db)

        def text(rows: list[dict[str, Any]]) -> str:
            return "\n".join(f"{r['token_id']}  {r['roles']}:{r['staff_id']}"
                             f"{'@' + r['dept'] if r['dept'] else ''}  "
                             f"expires {r['expires_at'] or '—'}  "
                             f"{'revoked ' + r['revoked_at'] if r['revoked_at'] else 'active'}"
                             for r in rows) or "（无令牌 / no tokens）"

        run(ctx, as_json, action, text, operation="tokens")

    @audit_app.command(name="reads", cls=Command)
    def reads(ctx: typer.Context,
              since: Annotated[str, typer.Option("--since", metavar="ISO8601",
                                                 help="From this moment on")],
              as_json: JsonOpt = False) -> None:
        """The access log since a moment: reveals, auditors' history reads, refusals."""

        def action(engine: Engine) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = engine.access_entries(parse_instant(since, "since"))
            return rows

        run(ctx, as_json, action, entries_text, operation="audit_reads")
