"""The knowledge-base benchmark's question set (tests/fixtures/kb_questions.csv) is consistent
with the shipped base (config/kb/*.md): every label names an article valid on the bench's
day, every such article is asked in every split, the splits are the known ones (train; heldout,
measured once after tuning; heldout2, written blind afterwards as a fresh held-out set), each
holds questions nothing in the base answers, heldout2 is of its stated size, and no question
copies an article's 问法 (a copied form would measure nothing). Failures name rows by number and key, never a held-out text."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from adapters.kb_files import read_kb_file
from domain.kb.content import _split
from tools.bench_kb import KB_DIR, NONE, ON, QUESTIONS

SPLITS = ("train", "heldout", "heldout2")


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with QUESTIONS.open(encoding="utf-8-sig", newline="") as f:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def base() -> dict[str, tuple[bool, list[str]]]:
    """Every shipped article: whether it is valid on the bench's day, and its 问法."""
    day = ON.isoformat()
    found: dict[str, tuple[bool, list[str]]] = {}
    for path in sorted(Path(KB_DIR).glob("*.md")):
        for a in read_kb_file(path).articles:
            start, end = a.fields.get("valid_from", ""), a.fields.get("valid_to", "")
            valid = (not start or start <= day) and (not end or day <= end)
            found[a.key] = (valid, [*_split(a.fields.get("questions", "")), a.title])
    return found


def test_columns_splits_and_texts(rows: list[dict[str, str]]) -> None:
    assert rows and set(rows[0]) == {"question", "key", "split"}
    bad = [i for i, r in enumerate(rows, 2) if r["split"] not in SPLITS or not r["question"]]
    assert not bad, f"rows with a bad split or no question: {bad}"
    counts = Counter(_plain(r["question"]) for r in rows)
    repeated = [i for i, r in enumerate(rows, 2) if counts[_plain(r["question"])] > 1]
    assert not repeated, f"rows asking the same question twice: {repeated}"


def test_every_label_names_a_valid_article_and_every_article_is_asked_in_both_splits(
        rows: list[dict[str, str]], base: dict[str, tuple[bool, list[str]]]) -> None:
    unknown = [(i, r["key"]) for i, r in enumerate(rows, 2)
               if r["key"] != NONE and not base.get(r["key"], (False, []))[0]]
    assert not unknown, f"rows labelled with no article valid on {ON}: {unknown}"
    asked = {(r["key"], r["split"]) for r in rows}
    for split in SPLITS:
        missing = [k for k, (valid, _) in base.items() if valid and (k, split) not in asked]
        assert not missing, f"articles with no {split} question: {missing}"
        assert (NONE, split) in asked, f"no {NONE} question in {split}"


def test_no_question_copies_an_article_form(rows: list[dict[str, str]],
                                            base: dict[str, tuple[bool, list[str]]]) -> None:
    forms = {_plain(f): key for key, (_, fs) in base.items() for f in fs}
    copied = [(i, r["split"], r["key"], forms[_plain(r["question"])])
              for i, r in enumerate(rows, 2) if _plain(r["question"]) in forms]
    assert not copied, f"rows copying a 问法 or title verbatim (row, split, key, article): {copied}"


def test_the_fresh_held_out_split_is_of_its_stated_size(rows: list[dict[str, str]]) -> None:
    fresh = [r for r in rows if r["split"] == "heldout2"]
    answerable = sum(r["key"] != NONE for r in fresh)
    assert answerable >= 110 and len(fresh) - answerable >= 20, (answerable, len(fresh))
