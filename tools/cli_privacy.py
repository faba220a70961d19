"""`rexian keys` (the key-encryption key) and `rexian erase` (删除权, crypto-shredding).

The KEK is a file outside the store (--kek, $REXIAN_KEK_FILE, default ./var/rexian.kek);
`keys rotate` rewraps every data key under a new one without touching an event;
`erase --citizen PHONE --reason TEXT` shreds one citizen's data key and records an Erased
event on each of their work orders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tools.cli_base import Command, Group, JsonOpt

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

keys_app = typer.Typer(cls=Group, no_args_is_help=True, help="The key-encryption key (密钥加密"
                       "密钥) that wraps every citizen's data key, kept outside the store.")


def status_text(result: dict[str, Any]) -> str:
    lines = [f"密钥文件 / KEK file: {result['kek_file']}",
             f"指纹 / fingerprint: {result['kek_fingerprint'] or '—'} "
             f"(事件库 / store: {result['store_fingerprint'] or '—'})",
             f"数据密钥 / data keys: {result['data_keys']}"]
    if result["locked"]:
        lines.append(f"个人信息不可用 / personal data unavailable: {result['problem']}")
    return "\n".join(lines)


def erase_text(result: dict[str, Any]) -> str:
    tickets = "、".join(result["tickets"]) or "无 / none"
    return (f"已删除来电人 {result['citizen']} 的个人信息（数据密钥已销毁）/ erased: "
            f"{len(result['tickets'])} 个工单 / orders: {tickets}")


def register(app: typer.Typer, run: Any, ctx_of: Any) -> None:
    """Add `keys status|rotate` and `erase` to the CLI (tools.cli's `run` and `ctx_of`)."""
    app.add_typer(keys_app, name="keys")

    @keys_app.command(name="status", cls=Command)
    def keys_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
        """Where the KEK is, its fingerprint and the store's, how many data keys."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.keys import kek_path

            return {"kek_file": str(kek_path(ctx_of(ctx).kek)),
                    **engine.vault.status()}

        run(ctx, as_json, action, status_text, operation="keys")

    @keys_app.command(name="rotate", cls=Command)
    def keys_rotate(ctx: typer.Context, as_json: JsonOpt = False) -> None:
        """Rewrap every data key and the pepper under a new KEK, in one transaction (no
        event changes); the old key file is kept as <file>.<UTC time>.old. Stop other
        engines on this store first: they hold the old KEK in memory."""

        def action(engine: Engine) -> dict[str, Any]:
            from adapters.vault import rotate

            return rotate(engine.vault)

        def text(result: dict[str, Any]) -> str:
            return (f"已轮换 / rotated: {result['rewrapped_keys']} 个数据密钥 / data keys "
                    f"now under {result['kek_file']} ({result['fingerprint']}); "
                    f"旧密钥备份 / old KEK kept as {result['old_kek_backup']}")

        run(ctx, as_json, action, text, operation="keys")

    @app.command(name="erase", cls=Command)
    def erase(ctx: typer.Context,
              citizen: Annotated[str, typer.Option(
                  "--citizen", metavar="PHONE", help="来电号码: the citizen's phone number")],
              reason: Annotated[str, typer.Option(
                  "--reason", metavar="TEXT", help="删除理由: why (mandatory)")],
              as_json: JsonOpt = False) -> None:
        """删除权: shred the citizen's data key; every order of theirs records an Erased
        event and shows the caller as 已删除 (counts, chains and verify unchanged)."""

        def action(engine: Engine) -> dict[str, Any]:
            actor = ctx_of(ctx).actor()
            result: dict[str, Any] = engine.erase_citizen(citizen, reason=reason, actor=actor)
            return result

        run(ctx, as_json, action, erase_text, operation="erase")
