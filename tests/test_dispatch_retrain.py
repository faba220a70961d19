"""Incremental retraining on a schedule (issue 14 item 2): `rexian serve` continues the
stored dispatch model on the new dispatch history once it is config/dispatch.toml's
[retraining] every_hours old, recorded in the store as `rexian suggest train` is."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.dispatch import MODELS, RetrainSchedule, desk, load_retraining_hours
from domain.errors import InvalidInput
from domain.values import Actor
from tests.conftest import SimClock
from tests.support.procs import PythonProcess
from tests.test_dispatch_suggest import dispatched, history_from_corpus
from tests.test_serve import REPO, stop
from tools.make_dispatch_corpus import CATALOGUE

ADMIN = Actor("admin", "ops")


def models(engine: Engine) -> list[tuple[int, str, int]]:
    with engine.db.transaction(immediate=False) as cur:
        rows = cur.execute(f"SELECT id, trained_by, orders FROM {MODELS} ORDER BY id").fetchall()
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def test_the_model_is_continued_when_due_and_only_on_new_history(engine: Engine,
                                                                  clock: SimClock) -> None:
    found = desk(engine)
    schedule = RetrainSchedule(engine, every_hours=24)
    assert schedule.run_once() is None  # no model yet: the first one is a person's decision
    found.import_catalogue(CATALOGUE, actor=ADMIN)
    history_from_corpus(engine, every=8)
    first = found.train(actor=ADMIN)
    clock.advance(hours=23)
    dispatched(engine, "河里漂着一层油花", "区生态环境分局", returned_by="区水务局")
    assert schedule.run_once() is None  # not a day old yet
    clock.advance(hours=2)
    done = schedule.run_once()
    assert done is not None and done["incremental"] and done["new_orders"] == 1
    assert done["orders"] == first["orders"] + 1 and done["trained_by"] == "system:dispatch-retrainer"
    assert models(engine)[-1] == (done["model"], "system:dispatch-retrainer", done["orders"])
    assert found.model() is not None and found._model_id == done["model"]
    clock.advance(hours=25)
    assert schedule.run_once() is None  # nothing new: nothing stored ...
    dispatched(engine, "小区门口路灯坏了", "区城管局")
    clock.advance(minutes=30)
    assert schedule.run_once() is None  # ... and it looks again an hour later
    clock.advance(minutes=31)
    again = schedule.run_once()
    assert again is not None and again["new_orders"] == 1 and again["model"] == done["model"] + 1
    assert RetrainSchedule(engine, every_hours=0).run_once() is None  # 0: never


def test_the_retraining_setting_is_checked(tmp_path: Path) -> None:
    assert load_retraining_hours() == 24.0  # as shipped
    policy = tmp_path / "dispatch.toml"
    for text, named in (("[retraining]\nevery_hours = -1\n", "every_hours"),
                        ("[retraining]\nevery_hours = true\n", "every_hours"),
                        ("[retraining]\nhourly = 1\n", "hourly")):
        policy.write_text(text, encoding="utf-8")
        with pytest.raises(InvalidInput) as refused:
            load_retraining_hours(policy)
        assert named in refused.value.en and named in refused.value.zh
    policy.write_text("[retraining]\nevery_hours = 0.5\n", encoding="utf-8")
    assert load_retraining_hours(policy) == 0.5


def test_serve_retrains_incrementally_at_the_configured_interval(tmp_path: Path) -> None:
    db = tmp_path / "rexian.db"
    engine = build_engine(str(db))
    try:
        desk(engine).import_catalogue(CATALOGUE, actor=ADMIN)
        history_from_corpus(engine, every=8)
        first = desk(engine).train(actor=ADMIN)
        dispatched(engine, "河里漂着一层油花", "区生态环境分局")
    finally:
        engine.close()
    policy = tmp_path / "dispatch.toml"
    policy.write_text("[retraining]\nevery_hours = 0.0005\n", encoding="utf-8")  # 1.8 s
    time.sleep(2)
    proc = PythonProcess("tools.cli", "--db", str(db), "serve", "--grpc", "127.0.0.1:0",
                         "--interval", "0.2", env={"REXIAN_DISPATCH_FILE": str(policy)},
                         cwd=str(REPO))
    try:
        proc.wait_for_line(r"^Dispatch model: continued incrementally every 0.0005 h", 30)
        line = proc.wait_for_line(r"^dispatch model 2: continued on 1 new orders", 60)
        assert f"({first['orders'] + 1} in all" in line
    finally:
        assert stop(proc) == 0
    engine = build_engine(str(db))
    try:
        assert models(engine) == [(1, "admin:ops", first["orders"]),
                                  (2, "system:dispatch-retrainer", first["orders"] + 1)]
    finally:
        engine.close()
