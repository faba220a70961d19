"""`python -m tools.bench dispatch [--orders N] [--json]`: dispatch suggestions (issue 14).

1. Accuracy on unseen text. A fresh store (on /dev/shm when there is one) gets the sample
   catalogue and the train part of tests/fixtures/dispatch_corpus.jsonl as its dispatch
   history, through the real commands: intake, dispatch; RETURNED_SHARE of the orders first
   go to a wrong unit, which returns them (退单) before they are re-dispatched (改派).
   `rexian suggest train`'s code trains the model on that history; then every held-out
   request is asked of the desk: top-1 and top-3 against its labelled lead unit, overall
   and by kind (dialect, typo, aside, unseen paraphrase, region-dependent). The catalogue
   rules alone are the baseline.
2. 退单率 simulated on the held-out requests: a dispatcher without suggestions looks the
   words up in the catalogue (the rules' first unit; 区政府 when nothing matches); with
   suggestions, takes the first one. A dispatch to any unit but the labelled lead is
   returned.
3. Latency at ORDERS past orders (default 100,000): a generated history (train wording,
   fresh noise, ~10 % returned by a wrong unit) trains the model in memory; after a
   warm-up pass, each held-out request's suggestion is timed (p50, p99), against the rules
   alone in the same run (the ratio).
4. Duplicates (并单 candidates, helper E's tools/bench_duplicates.py): precision and recall
   on its held-out test split at the configured threshold.

Nothing here tunes anything: the weights were fixed on the train part beforehand.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tools.make_dispatch_corpus import (
    CATALOGUE,
    PHRASES,
    TRAIN_ENDINGS,
    TRAIN_FRAMES,
    TRAIN_OPENERS,
    TRAIN_PLACES,
    catalogue_rows,
    load,
    noisy,
)

RETURNED_SHARE = 0.15
FALLBACK_UNIT = "区政府"  # where a dispatcher sends what the catalogue does not name
ORDERS = 100_000
SEED = 14


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _wrong_unit(dept: str, units: list[str], rng: random.Random) -> str:
    return rng.choice([u for u in units if u != dept])


def _history_store(workdir: Path) -> tuple[Any, dict[str, Any]]:
    """The engine with the catalogue and the train split as its dispatch history."""
    from adapters.bootstrap import build_engine
    from adapters.dispatch import desk
    from domain.values import Actor

    engine = build_engine(str(workdir / "bench.db"), kek_file=str(workdir / "bench.kek"))
    admin, agent, centre = Actor("admin", "bench"), Actor("agent", "bench"), Actor(
        "dispatcher", "centre")
    desk(engine).import_catalogue(CATALOGUE, actor=admin)
    units = sorted(d.name for d in engine.departments.all())
    rng = random.Random(SEED)
    service = engine.service
    started = time.perf_counter()
    train = load("train")
    returned = 0
    for number, record in enumerate(train):
        ticket = service.execute(
            "intake", actor=agent, channel="电话", category=record["category"],
            urgency="一般", region=record["region"], content=record["text"],
            caller_name="市民", caller_phone=f"1380000{number % 10000:04d}")
        if rng.random() < RETURNED_SHARE:
            wrong = _wrong_unit(record["dept"], units, rng)
            service.execute("dispatch", ticket, actor=centre, dept=wrong, assist=[])
            service.execute("return_order", ticket, actor=Actor("department", wrong),
                            dept=wrong, reason="不属于本单位职责")
            service.execute("redispatch", ticket, actor=centre, dept=record["dept"],
                            assist=[], reason="按职责改派")
            returned += 1
        else:
            service.execute("dispatch", ticket, actor=centre, dept=record["dept"], assist=[])
    seconds = time.perf_counter() - started
    trained = desk(engine).train(actor=admin)
    return engine, {"history_orders": len(train), "history_returned": returned,
                    "history_seconds": round(seconds, 1), "train_seconds": trained["seconds"]}


def _accuracy(engine: Any, held: list[dict[str, Any]]) -> dict[str, Any]:
    from adapters.dispatch import desk
    from domain.dispatch.ranking import suggest

    found = desk(engine)
    catalogue = found.catalogues.catalogue()
    items = catalogue.items()
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    returns = {"without": 0, "with": 0}
    for record in held:
        ranked = found.ranked(record["text"], record["category"], record["region"])
        depts = [s.dept for s in ranked]
        rules = suggest(content=record["text"], category=record["category"],
                        region=record["region"], items=items,
                        catalogue_version=catalogue.version, model=None)
        rule_depts = [s.dept for s in rules]
        for kind in ("all", *record["kinds"]):
            totals[kind] += 1
            hits[f"{kind}:top1"] += bool(depts) and depts[0] == record["dept"]
            hits[f"{kind}:top3"] += record["dept"] in depts
        hits["rules:top1"] += bool(rule_depts) and rule_depts[0] == record["dept"]
        hits["rules:top3"] += record["dept"] in rule_depts
        returns["without"] += (rule_depts[0] if rule_depts else FALLBACK_UNIT) != record["dept"]
        returns["with"] += (depts[0] if depts else FALLBACK_UNIT) != record["dept"]
    n = len(held)
    by_kind = {kind: {"requests": totals[kind],
                      "top1": round(hits[f"{kind}:top1"] / totals[kind], 4),
                      "top3": round(hits[f"{kind}:top3"] / totals[kind], 4)}
               for kind in sorted(totals) if kind != "all"}
    return {"held_out": n, "top1": round(hits["all:top1"] / n, 4),
            "top3": round(hits["all:top3"] / n, 4),
            "rules_only_top1": round(hits["rules:top1"] / n, 4),
            "rules_only_top3": round(hits["rules:top3"] / n, 4),
            "return_rate_without_suggestions": round(returns["without"] / n, 4),
            "return_rate_with_suggestions": round(returns["with"] / n, 4),
            "by_kind": by_kind}


def _generated_history(count: int, rng: random.Random) -> list[Any]:
    """`count` past orders in the train split's wording (fresh noise), ~10 % returned."""
    from adapters.nlp.dispatch_model import PastOrder
    from tools.make_dispatch_corpus import REGIONS

    rows = catalogue_rows()
    units = sorted({r["lead"] for r in rows})
    orders = []
    for _ in range(count):
        row = rng.choice(rows)
        text = rng.choice(TRAIN_FRAMES).format(
            o=rng.choice(TRAIN_OPENERS), w=rng.choice(TRAIN_PLACES),
            p=rng.choice(PHRASES[row["item"]][:-1]), e=rng.choice(TRAIN_ENDINGS))
        text, _kinds = noisy(text, rng)
        region = row["region"] if row["region"] != "甬江区" else rng.choice(REGIONS)
        returned = (_wrong_unit(row["lead"], units, rng),) if rng.random() < 0.1 else ()
        orders.append(PastOrder(text, rng.choice(("投诉", "求助", "咨询")), region,
                                row["lead"], returned))
    return orders


def _latency(engine: Any, held: list[dict[str, Any]], orders: int) -> dict[str, Any]:
    from adapters.dispatch import desk
    from adapters.nlp.dispatch_model import DispatchModel
    from domain.dispatch.ranking import suggest

    catalogue = desk(engine).catalogues.catalogue()
    items = catalogue.items()
    terms = [t for item in items for t in (*item.keywords, item.item)]
    history = _generated_history(orders, random.Random(SEED))
    started = time.perf_counter()
    model = DispatchModel(terms).fit(history, "bench")
    fit_seconds = time.perf_counter() - started
    model.unit_scores("预热", "投诉", "甬江区")  # jieba's dictionary loads on first use

    def timed(with_model: bool) -> list[float]:
        spent = []
        for record in held:
            begin = time.perf_counter()
            suggest(content=record["text"], category=record["category"],
                    region=record["region"], items=items, catalogue_version=catalogue.version,
                    model=model if with_model else None)
            spent.append((time.perf_counter() - begin) * 1000)
        return spent

    timed(True)  # warm-up: first-touch page faults of the weights, numpy's caches
    rules, full = timed(False), timed(True)
    return {"past_orders": orders, "returned_kept": len(model._returned_by),
            "fit_seconds": round(fit_seconds, 1), "requests_timed": len(full),
            "p50_ms": round(statistics.median(full), 2), "p99_ms": round(_percentile(full, 0.99), 2),
            "rules_only_p99_ms": round(_percentile(rules, 0.99), 3),
            "ratio_p99_vs_rules_only": round(_percentile(full, 0.99) / _percentile(rules, 0.99), 1),
            "model_bytes": len(model.to_bytes())}


def run(argv: list[str]) -> dict[str, Any]:
    orders = ORDERS
    if "--orders" in argv:
        orders = int(argv[argv.index("--orders") + 1])
    held = load("held_out")
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=base) as workdir:
        engine, history = _history_store(Path(workdir))
        try:
            accuracy = _accuracy(engine, held)
            latency = _latency(engine, held, orders)
        finally:
            engine.close()
    from tools.bench_duplicates import evaluate_duplicates

    duplicates = evaluate_duplicates("test")
    return {"accuracy": {**history, **{k: v for k, v in accuracy.items() if k != "by_kind"}},
            **{f"kind {k}": v for k, v in accuracy["by_kind"].items()},
            "latency": latency, "duplicates": duplicates, "load": {"loadavg_1m": round(os.getloadavg()[0], 2),
                                         "cpus": os.cpu_count()}}
