"""The labelled dispatch corpus (issue 14 item 4): the committed file is what the generator
makes, large and varied enough, and its held-out part shares no request, sentence frame or
held-back paraphrase with the train part."""

from __future__ import annotations

from tools.make_dispatch_corpus import (
    HELD_ENDINGS,
    HELD_OPENERS,
    HELD_PLACES,
    PHRASES,
    generate,
    load,
)


def test_the_committed_corpus_is_the_generated_one() -> None:
    assert list(generate()) == load()


def test_the_split_keeps_held_out_text_unseen() -> None:
    train, held = load("train"), load("held_out")
    assert len(train) + len(held) >= 2000 and len({r["item"] for r in held}) >= 60
    assert not {(r["text"], r["region"]) for r in train} & {(r["text"], r["region"])
                                                            for r in held}
    held_back = [phrases[-1] for phrases in PHRASES.values()]
    assert not any(p in r["text"] for r in train for p in held_back)
    held_words = (*HELD_OPENERS, *HELD_PLACES, *HELD_ENDINGS, "这种情况找哪个部门", "已经一个礼拜了")
    assert not any(w.rstrip("，。") in r["text"] for r in train for w in held_words)
    kinds = {k for r in held for k in r["kinds"]}
    assert {"dialect", "typo", "aside", "unseen_paraphrase", "region_dependent"} <= kinds
