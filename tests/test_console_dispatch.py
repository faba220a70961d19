"""The console's dispatch suggestions (/api/orders/T/suggestions): what `rexian suggest T`
says, for the roles allowed `suggest`; a unit's token is refused, no token 401."""

from __future__ import annotations

import httpx

from adapters.dispatch import desk
from domain.values import Actor
from tests.support.console import Console, console  # noqa: F401
from tools.make_dispatch_corpus import CATALOGUE

__all__ = ["console"]


def test_an_orders_suggestions(console: Console) -> None:
    desk(console.engine).import_catalogue(CATALOGUE, actor=Actor("admin", "ops"))
    ticket = console.intake("楼下饭店油烟太大，烧烤油烟熏人")
    url = f"{console.url}/api/orders/{ticket}/suggestions"
    answer = httpx.get(url, headers=console.auth("dispatcher"))
    assert answer.status_code == 200
    assert answer.json() == desk(console.engine).suggest_order(ticket)
    assert answer.json()["suggestions"][0]["dept"] == "区城管局"
    assert "YJ049" in answer.json()["suggestions"][0]["reason"]
    assert httpx.get(url, headers=console.auth("区城管局")).status_code == 403
    assert httpx.get(url).status_code == 401
    missing = httpx.get(f"{console.url}/api/orders/209901019999/suggestions",
                        headers=console.auth("dispatcher"))
    assert missing.status_code == 404 and "does not exist" in missing.json()["en"]
