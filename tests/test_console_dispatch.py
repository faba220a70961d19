"""The console's dispatch suggestions (/api/orders/T/suggestions): what `rexian suggest T`
says, for the roles allowed `suggest`; a unit's token is refused, no token 401. The order
page's commands: 派单 (/dispatch) and 并单 (/merge) beside the candidate duplicates
(/duplicates, what `rexian duplicates T` says)."""

from __future__ import annotations

import httpx

from adapters.dispatch import desk
from adapters.duplicates import DuplicateDesk
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


def test_dispatch_and_merge_from_the_console(console: Console) -> None:
    """派单 and 并单 as console commands: JSON only, the caller's own actor, a session's
    CSRF value; refused for roles the matrix does not allow, nothing recorded."""
    engine = console.engine
    desk(engine).import_catalogue(CATALOGUE, actor=Actor("admin", "ops"))
    first = console.intake("楼下饭店油烟太大，烧烤油烟熏人，窗户都不敢开")
    again = console.intake("楼下那家饭店烧烤油烟太大了，熏得人受不了")
    me = httpx.get(f"{console.url}/api/me", headers=console.auth("dispatcher")).json()
    assert {"dispatch", "merge", "suggest", "duplicates"} <= set(me["may"])
    auditor = httpx.get(f"{console.url}/api/me", headers=console.auth("auditor")).json()
    assert "dispatch" not in auditor["may"] and "duplicates" in auditor["may"]
    found = httpx.get(f"{console.url}/api/orders/{again}/duplicates",
                      headers=console.auth("dispatcher")).json()
    assert found == DuplicateDesk(engine).candidates(again)
    candidate = found["candidates"][0]
    assert candidate["ticket_no"] == first
    assert candidate["merge_order"] == {"ticket_no": again, "into": first,
                                        "reason": "重复诉求（并单建议）"}
    assert httpx.get(f"{console.url}/api/orders/{again}/duplicates",
                     headers=console.auth("区城管局")).status_code == 403
    url = f"{console.url}/api/orders/{first}/dispatch"
    top = desk(engine).suggest_order(first)["suggestions"][0]
    before = engine.service.show(first)["version"]
    for headers, body, status in (
            ({}, {"dept": top["dept"]}, 401),
            (console.auth("auditor"), {"dept": top["dept"]}, 403),
            (console.auth("区城管局"), {"dept": top["dept"]}, 403),
            (console.auth("dispatcher"), {"dept": ""}, 400),
            (console.auth("dispatcher"), {"dept": top["dept"], "assist": "区水务局"}, 400),
            (console.auth("dispatcher"), {"dept": "区火星局"}, 400)):
        answer = httpx.post(url, json=body, headers=headers)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["zh"] and answer.json()["en"]
    form = httpx.post(url, data={"dept": top["dept"]}, headers=console.auth("dispatcher"))
    assert form.status_code == 400 and "JSON" in form.json()["en"]
    assert engine.service.show(first)["version"] == before  # nothing recorded
    done = httpx.post(url, json={"dept": top["dept"], "assist": top["assist"]},
                      headers=console.auth("dispatcher"))
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "已派单" and done.json()["department"] == top["dept"]
    last = engine.service.history(first)["events"][-1]
    assert last["type"] == "Dispatched" and last["actor"] == {"role": "dispatcher",
                                                              "id": "dispatcher-1"}
    twice = httpx.post(url, json={"dept": top["dept"]}, headers=console.auth("dispatcher"))
    assert twice.status_code == 409  # an order already dispatched: the lifecycle refuses
    # 并单 in one step, as the candidate says.
    merged = httpx.post(f"{console.url}/api/orders/{again}/merge",
                        json={"into": candidate["merge_order"]["into"],
                              "reason": candidate["merge_order"]["reason"]},
                        headers=console.auth("dispatcher"))
    assert merged.status_code == 200, merged.text
    assert merged.json()["state"] == "已合并"
    assert engine.service.history(again)["events"][-1]["actor"]["id"] == "dispatcher-1"


def test_a_console_session_needs_its_csrf_value_for_a_command(console: Console) -> None:
    ticket = console.intake("小区门口的路灯坏了")
    with httpx.Client(base_url=console.url) as browser:
        login = browser.post("/api/login", json={"token": console.tokens["dispatcher"]})
        assert login.status_code == 200
        page = browser.get(f"/orders/{ticket}").text
        csrf = page.split('name="csrf" content="', 1)[1].split('"', 1)[0]
        body = {"dept": "区城管局"}
        for sent in ({}, {"x-csrf-token": "forged"}):
            refused = browser.post(f"/api/orders/{ticket}/dispatch", json=body, headers=sent)
            assert refused.status_code == 403 and "CSRF" in refused.json()["en"]
        assert console.engine.service.show(ticket)["state"] == "已受理"
        done = browser.post(f"/api/orders/{ticket}/dispatch", json=body,
                            headers={"x-csrf-token": csrf})
        assert done.status_code == 200 and done.json()["department"] == "区城管局"
