"""Dispatch suggestions (issue 14 item 2): catalogue rules and a model trained on the store's
own dispatch history (Dispatched / Redispatched / Returned through the real commands), top 3
with reasons; region-dependent answers; a unit that returned similar orders ranks lower;
full and incremental training; `rexian suggest` (TICKET, --content, --batch, train) with bad
input refused whole, bilingual, exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.dispatch import NoEvidence, desk
from adapters.nlp.dispatch_model import DispatchModel, PastOrder
from domain.dispatch.ranking import suggest
from domain.errors import InvalidInput
from domain.values import Actor
from tests.test_cli import ok, refused, rexian
from tools.make_dispatch_corpus import CATALOGUE, load

ADMIN = Actor("admin", "ops")
AGENT = Actor("agent", "a1")
CENTRE = Actor("dispatcher", "centre")
NOW = "2026-03-02T10:00:00+08:00"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = build_engine(str(tmp_path / "r.db"))
    yield made
    made.close()


def intake(engine: Engine, content: str, region: str = "甬江区", category: str = "投诉") -> str:
    return engine.service.execute("intake", actor=AGENT, channel="电话", category=category,
                                  urgency="一般", region=region, content=content,
                                  caller_name="市民", caller_phone="13800138000")


def dispatched(engine: Engine, content: str, dept: str, region: str = "甬江区",
               returned_by: str | None = None) -> str:
    ticket = intake(engine, content, region)
    service = engine.service
    if returned_by:
        service.execute("dispatch", ticket, actor=CENTRE, dept=returned_by, assist=[])
        service.execute("return_order", ticket, actor=Actor("department", returned_by),
                        dept=returned_by, reason="不属于本单位职责")
        service.execute("redispatch", ticket, actor=CENTRE, dept=dept, assist=[],
                        reason="改派")
    else:
        service.execute("dispatch", ticket, actor=CENTRE, dept=dept, assist=[])
    return ticket


def history_from_corpus(engine: Engine, every: int = 5) -> int:
    """Every `every`-th train request of the corpus, dispatched to its lead unit."""
    records = load("train")[::every]
    for record in records:
        dispatched(engine, record["text"], record["dept"], record["region"])
    return len(records)


def test_rules_and_history_rank_the_units_with_reasons(engine: Engine) -> None:
    found = desk(engine)
    with pytest.raises(NoEvidence):
        found.suggest(content="楼道里堆满了杂物", category="投诉", region="甬江区东湖街道")
    found.import_catalogue(CATALOGUE, actor=ADMIN)
    with pytest.raises(InvalidInput, match="not enough dispatch history"):
        found.train(actor=ADMIN)
    # Rules alone: the same words go to each street's own office.
    for region, office in (("甬江区东湖街道", "东湖街道办事处"), ("甬江区西塘街道春晓社区", "西塘街道办事处"),
                           ("甬江区南岸镇", "南岸镇人民政府")):
        best = found.suggest(content="楼道里堆满了杂物，消防通道堵塞", category="投诉",
                             region=region)["suggestions"][0]
        assert best["dept"] == office and "楼道堆物" in best["reason"]
    orders = history_from_corpus(engine)
    trained = found.train(actor=ADMIN)
    assert trained["orders"] == orders and trained["model"] == 1 and not trained["incremental"]
    result = found.suggest(content="老板拖了三个月的工钱不给，我们几个工友都没拿到",
                           category="投诉", region="甬江区西塘街道")["suggestions"]
    assert 1 <= len(result) <= 3 and result[0]["dept"] == "区人社局"
    assert [s["score"] for s in result] == sorted((s["score"] for s in result), reverse=True)
    assert "历史派单" in result[0]["reason"]
    assert {"dept", "score", "reason"} <= set(result[0])
    # Words the catalogue does not list, learnt from the history alone.
    unseen = found.suggest(content="饭菜里吃出苍蝇，老板还不认账", category="投诉",
                           region="甬江区")["suggestions"]
    assert unseen[0]["dept"] == "区市场监管局"
    # An order's own content, category and region.
    ticket = intake(engine, "工地晚上十一点多还在打桩，吵得睡不着")
    assert found.suggest_order(ticket)["suggestions"][0]["dept"] == "区城管局"


def test_a_unit_that_returned_similar_orders_ranks_lower() -> None:
    text = "小区门口的路灯坏了好几天，晚上黑漆漆的"
    base = [PastOrder(text + suffix, "投诉", "甬江区", "区城管局") for suffix in "。！？…"]
    base += [PastOrder(f"马路上有个大坑{n}", "投诉", "甬江区", "区交通运输局") for n in range(4)]
    returns = [PastOrder(text + f"第{n}次", "投诉", "甬江区", "区交通运输局", ("区城管局",))
               for n in range(3)]
    plain = DispatchModel(["路灯"]).fit(base, "t")
    with_returns = DispatchModel(["路灯"]).fit(base + returns, "t")

    def score(model: DispatchModel) -> dict[str, Any]:
        ranked = suggest(content=text, category="投诉", region="甬江区", items=[],
                         catalogue_version=None, model=model)
        return {s.dept: s for s in ranked}

    before, after = score(plain)["区城管局"], score(with_returns)["区城管局"]
    assert with_returns.returned_similar(text, "投诉", "甬江区") == {"区城管局": 3}
    assert after.score < before.score and "退回过相似工单 3 件" in after.reason


def test_incremental_training_continues_the_model(engine: Engine) -> None:
    found = desk(engine)
    found.import_catalogue(CATALOGUE, actor=ADMIN)
    history_from_corpus(engine, every=8)
    first = found.train(actor=ADMIN)
    dispatched(engine, "河里漂着一层油花，还有死鱼", "区生态环境分局",
               returned_by="区水务局")
    more = found.train(actor=ADMIN, incremental=True)
    assert more["incremental"] and more["new_orders"] == 1 and more["model"] == 2
    assert more["orders"] == first["orders"] + 1
    # A second process sees the newest model.
    other = build_engine(str(engine.config.sqlite_path))
    try:
        model = desk(other).model()
        assert model is not None and model.orders == more["orders"]
        assert model.returned_similar("河里漂着一层油花，还有死鱼", "投诉", "甬江区") == {
            "区水务局": 1}
    finally:
        other.close()


def test_bad_requests_are_refused(engine: Engine) -> None:
    found = desk(engine)
    found.import_catalogue(CATALOGUE, actor=ADMIN)
    for fields, named in (({"content": "", "category": "投诉", "region": "甬江区"}, "content"),
                          ({"content": "停水", "category": "闲聊", "region": "甬江区"}, "category"),
                          ({"content": "停\x00水", "category": "投诉", "region": "甬江区"},
                           "content"),
                          ({"content": "停水", "category": "投诉", "region": "甬\n江区"}, "region")):
        with pytest.raises(InvalidInput) as caught:
            found.suggest(**fields)
        assert caught.value.field == named


def test_suggest_from_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    ok(db, NOW, "catalogue", "import", str(CATALOGUE))
    one = ok(db, NOW, "suggest", "--content", "家里自来水停了也没通知", "--category", "投诉",
             "--region", "甬江区东湖街道")
    assert one["suggestions"][0]["dept"] == "区水务局"
    batch = tmp_path / "b.jsonl"
    requests = [{"content": "电梯故障，困了人", "category": "求助", "region": "甬江区"},
                {"content": "楼道堆物没人管", "category": "投诉", "region": "甬江区南岸镇"},
                {"content": "欠薪三个月", "category": "投诉", "region": "甬江区"}]
    batch.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in requests),
                     encoding="utf-8")
    done = rexian(db, "suggest", "--batch", str(batch), now=NOW)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["suggestions"][0]["dept"] for line in lines] == [
        "区市场监管局", "南岸镇人民政府", "区人社局"]
    batch.write_text('{"content": "停水", "category": "投诉", "region": "甬江区"}\n'
                     'not json\n[1, 2]\n{"content": "停电"}\n', encoding="utf-8")
    message = refused(db, NOW, "suggest", "--batch", str(batch))
    assert "第 2 行" in message and "line 3" in message and "line 4: lacks" in message
    batch.write_bytes(b"\xff\xfe\x00garbage")
    assert "UTF-8" in refused(db, NOW, "suggest", "--batch", str(batch))
    assert "闲聊" in refused(db, NOW, "suggest", "--content", "停水", "--category", "闲聊",
                             "--region", "甬江区")
    assert "give one of" in refused(db, NOW, "suggest")
    assert "not enough dispatch history" in refused(db, NOW, "suggest", "train")
    assert "may not suggest_train" in refused(db, NOW, "--role", "agent", "suggest", "train")
    ticket = ok(db, NOW, "intake", "--channel", "电话", "--category", "投诉", "--region",
                "甬江区", "--caller-name", "张三", "--caller-phone", "13800138000",
                "--content", "路面坑坑洼洼，电动车摔了")
    assert ticket["dispatch_suggestions"][0]["dept"] == "区交通运输局"
    assert ticket["auto_dispatched"] is None and ticket["state"] == "已受理"
    ticket = ticket["ticket_no"]
    text = rexian(db, "suggest", ticket, now=NOW)
    assert text.returncode == 0 and "区交通运输局" in text.stdout.splitlines()[1]


def test_the_one_request_path_equals_scikit_learns() -> None:
    """unit_scores computes one request's features itself (speed): the same probabilities
    as the vectorizers + predict_proba, and the same similarity to the returns."""
    records = load("train")[::4]
    history = [PastOrder(r["text"], r["category"], r["region"], r["dept"],
                         ("区城管局",) if n % 7 == 0 and r["dept"] != "区城管局" else ())
               for n, r in enumerate(records)]
    model = DispatchModel(["拖欠工资", "楼道堆物"]).fit(history, "t")
    for record in load("held_out")[::60]:
        key = (record["text"], record["category"], record["region"])
        features, chars = model._features([key])
        expected = dict(zip(model._classifier.classes_,
                            model._classifier.predict_proba(features)[0], strict=True))
        got = model.unit_scores(*key)
        assert got.keys() == expected.keys()
        assert all(abs(got[unit] - expected[unit]) < 1e-5 for unit in got)
        similarity = (model._returned @ chars.T).toarray().ravel()
        assert sum(model.returned_similar(*key).values()) == int((similarity >= 0.5).sum())


def test_the_auto_dispatch_policy(engine: Engine, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    found = desk(engine)
    found.import_catalogue(CATALOGUE, actor=ADMIN)
    history_from_corpus(engine, every=4)
    found.train(actor=ADMIN)
    ticket = intake(engine, "老板拖欠工资三个月了，工资一直不发")
    off = found.intake_advice(ticket)  # the shipped policy is off
    assert off["auto_dispatched"] is None and off["dispatch_suggestions"][0]["dept"] == "区人社局"
    assert engine.service.show(ticket)["state"] == "已受理"
    policy = tmp_path / "dispatch.toml"
    policy.write_text("[auto_dispatch]\nenabled = true\nthreshold = 0.5\nmargin = 0.1\n",
                      encoding="utf-8")
    monkeypatch.setenv("REXIAN_DISPATCH_FILE", str(policy))
    done = found.intake_advice(ticket)
    assert done["auto_dispatched"] == "区人社局" and done["state"] == "已派单"
    events = engine.service.history(ticket)["events"]
    suggested, dispatch = events[-2], events[-1]
    assert suggested["type"] == "DispatchSuggested" and dispatch["type"] == "Dispatched"
    assert suggested["actor"] == dispatch["actor"] == {"role": "robot", "id": "auto-dispatch"}
    assert dispatch["details"]["dept"] == "区人社局"
    assert suggested["details"]["suggestions"][0]["dept"] == "区人社局"
    assert suggested["details"]["threshold"] == 0.5
    assert engine.verify(ticket).ok
    engine.catch_up()  # every read model takes the new event in its stride
    assert ticket in {r["ticket_no"] for r in engine.list(state="已派单", dept="区人社局")}
    # A 咨询 is left to people, and so is a request no suggestion is sure about.
    question = intake(engine, "想咨询一下社保断缴怎么补", category="咨询")
    assert found.intake_advice(question)["auto_dispatched"] is None
    vague = intake(engine, "你好，我想反映个情况")
    assert found.intake_advice(vague)["auto_dispatched"] is None
    # A bad policy file is reported with the order, which stays recorded as it was.
    policy.write_text("[auto_dispatch]\nenabled = true\nthreshold = 7\n", encoding="utf-8")
    other = intake(engine, "老板拖欠工资三个月了")
    advice = found.intake_advice(other)
    assert "threshold" in advice["dispatch_advice_error"]["en"]
    assert engine.service.show(other)["state"] == "已受理"


def test_a_unit_gone_from_the_registry_is_never_suggested() -> None:
    history = [PastOrder(f"小区门口路灯坏了{n}", "投诉", "甬江区", "区城管局") for n in range(5)]
    history += [PastOrder(f"马路上有个大坑{n}", "投诉", "甬江区", "区交通运输局") for n in range(5)]
    model = DispatchModel([]).fit(history, "t")
    ranked = suggest(content="小区门口路灯坏了", category="投诉", region="甬江区", items=[],
                     catalogue_version=None, model=model, units={"区交通运输局", "区水务局"})
    assert [s.dept for s in ranked] == ["区交通运输局"]
