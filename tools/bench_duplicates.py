"""`python -m tools.bench duplicates [--json]`: duplicate precision and recall (并单建议).

The labelled corpus is tools/duplicate_corpus.py's. Each split is played as one street's
intake stream: every order is scored against the orders before it, with the very function
intake uses (adapters/text_similarity.similarity_scores), and a pair scoring at or above
the threshold is a predicted duplicate. A true pair is two orders of one situation.

The threshold in config/duplicates.toml was chosen on the `train` split only (`tune`
below reproduces that choice); `test` is the figure to quote: its matters, phrasings and
places were never looked at while tuning. `evaluate_duplicates` is what `bench dispatch`
calls for its duplicate row.
"""

from __future__ import annotations

import os
import time
from typing import Any

from adapters.text_similarity import similarity_scores
from domain.duplicates.settings import load_settings
from tools.duplicate_corpus import CorpusOrder, generate


def _stream_scores(orders: list[CorpusOrder]) -> list[tuple[float, bool]]:
    """(score, truly a duplicate) for every pair, each order against those before it."""
    scored: list[tuple[float, bool]] = []
    for index, order in enumerate(orders):
        earlier = orders[:index]
        for other, score in zip(earlier, similarity_scores(
                order.content, [o.content for o in earlier]), strict=True):
            scored.append((score, other.situation == order.situation))
    return scored


def _figures(scored: list[tuple[float, bool]], threshold: float) -> dict[str, Any]:
    true_pairs = sum(1 for _, dup in scored if dup)
    predicted = [dup for score, dup in scored if score >= threshold]
    hits = sum(predicted)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4), "true_pairs": true_pairs,
            "predicted_pairs": len(predicted), "correct_pairs": hits}


def tune(seed: int = 14) -> dict[str, Any]:
    """The threshold with the best F1 on the train split (how the configured one was found)."""
    scored = _stream_scores(generate("train", seed))
    best = max((_figures(scored, t / 100) for t in range(10, 91)),
               key=lambda f: (f["f1"], f["threshold"]))
    return best


def evaluate_duplicates(split: str = "test", threshold: float | None = None,
                        seed: int = 14) -> dict[str, Any]:
    """Precision/recall of duplicate candidates on `split` at `threshold` (default: the
    configured one), with the corpus size and the scoring time per intake."""
    orders = generate(split, seed)
    limit = threshold if threshold is not None else load_settings().threshold
    similarity_scores(orders[0].content, [orders[-1].content])  # imports scikit-learn
    started = time.perf_counter()
    scored = _stream_scores(orders)
    elapsed = time.perf_counter() - started
    result = _figures(scored, limit)
    result.update(split=split, orders=len(orders),
                  situations=len({o.situation for o in orders}),
                  ms_per_intake=round(1000 * elapsed / len(orders), 2))
    return result


def scoring_time(pool_size: int = 1000, repeats: int = 20) -> dict[str, Any]:
    """Milliseconds to score one intake against `pool_size` recent orders of its area (the
    median of `repeats`), beside one score against a single order in the same run."""
    texts = [o.content for split in ("train", "test") for o in generate(split)]
    pool = (texts * (pool_size // len(texts) + 1))[:pool_size]

    def median_ms(candidates: list[str]) -> float:
        times = []
        for i in range(repeats):
            started = time.perf_counter()
            similarity_scores(texts[i % len(texts)], candidates)
            times.append(time.perf_counter() - started)
        return 1000 * sorted(times)[len(times) // 2]

    one, full = median_ms(pool[:1]), median_ms(pool)
    return {"pool": pool_size, "ms": round(full, 2), "ms_one_order": round(one, 2),
            "ratio": round(full / one, 1)}


def run(argv: list[str]) -> dict[str, Any]:
    result = {
        "test": evaluate_duplicates("test"),
        "train": evaluate_duplicates("train"),
        "tuned_on_train": tune(),
        "scoring": scoring_time(),
    }
    load = os.getloadavg()
    result["load"] = {"1min": round(load[0], 2), "5min": round(load[1], 2)}
    return result
