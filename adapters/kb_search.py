"""Knowledge-base retrieval: jieba (the base's terms as a user dictionary, on a tokenizer of
its own so the dispatch model's dictionary is untouched) + BM25 (rank-bm25) over each
article's question forms and title, re-ranked by a character n-gram TF-IDF cosine against
the article's closest single question form (robust to typos and ASR homophones a word
split misses). Built in memory from the valid articles (a base holds hundreds to a few
thousand); rebuilt when an article's version changes.

A hit below MIN_SCORE is no answer: the robot hands off or asks again rather than read
out an unrelated article. The weights were chosen on the benchmark's train split only
(tools/bench_kb.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from domain.errors import InvalidInput, shown
from domain.kb.article import KbArticle
from domain.settings_file import read_toml

TERMS_FILE: Final = Path(__file__).resolve().parents[1] / "config" / "kb" / "terms.toml"
BM25_WEIGHT: Final = 0.4   # of the BM25 score (scaled to the best candidate) vs the cosine
MIN_SCORE: Final = 0.25    # below it: nothing in the base answers the question
_PUNCT: Final = re.compile(r"[\s，。？！、；：,.?!;:“”\"'（）()《》【】\[\]…—~～]+")
_FILLERS: Final = ("请问一下", "请问", "你好", "您好", "麻烦问下", "我想问一下", "我想问", "想问一下",
                   "想咨询一下", "咨询一下", "我想咨询", "那个", "就是", "一下", "呢", "啊", "呀",
                   "吧", "嘛", "哦")


@dataclass(frozen=True)
class Vocabulary:
    terms: tuple[str, ...]
    synonyms: tuple[tuple[str, str], ...]  # longest spoken form first

    @classmethod
    def load(cls, path: str | Path | None = None) -> Vocabulary:
        file = Path(path or os.environ.get("REXIAN_KB_TERMS") or TERMS_FILE)
        data = read_toml(file, lambda zh, en: InvalidInput("kb_terms", f"知识库词表：{zh}",
                                                           f"knowledge-base terms: {en}"))
        terms = data.get("terms", [])
        synonyms = data.get("synonyms", {})
        if not (isinstance(terms, list) and all(isinstance(t, str) for t in terms)
                and isinstance(synonyms, dict)
                and all(isinstance(v, str) for v in synonyms.values())):
            raise InvalidInput("kb_terms", f"知识库词表 {shown(str(file), 80)} 格式不对：terms 应为"
                               "字符串列表，[synonyms] 为 说法 = 术语",
                               f"knowledge-base terms {shown(str(file), 80)}: terms must be a "
                               "list of strings and [synonyms] spoken = term")
        pairs = sorted(synonyms.items(), key=lambda kv: -len(kv[0]))
        return cls(tuple(terms), tuple(pairs))


def normalise(text: str, vocabulary: Vocabulary) -> str:
    """Lower case, punctuation and fillers out, spoken forms mapped to the base's terms."""
    text = _PUNCT.sub(" ", text.lower())
    for filler in _FILLERS:
        text = text.replace(filler, " ")
    for spoken, term in vocabulary.synonyms:
        text = text.replace(spoken, f" {term} ")
    return " ".join(text.split())


@dataclass(frozen=True)
class Hit:
    article: KbArticle
    score: float


class Retriever:
    """Search over `articles` (the valid ones: the caller filters by date)."""

    def __init__(self, articles: Sequence[KbArticle], vocabulary: Vocabulary,
                 bm25_weight: float = BM25_WEIGHT) -> None:
        import jieba
        from rank_bm25 import BM25Okapi
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.articles = list(articles)
        self.vocabulary = vocabulary
        self.bm25_weight = bm25_weight
        self.tokenizer = jieba.Tokenizer()
        jieba.setLogLevel(60)  # it announces its dictionary load on stderr otherwise
        for term in vocabulary.terms:
            self.tokenizer.add_word(term, freq=20000)
        forms: list[str] = []
        owners: list[int] = []
        documents: list[list[str]] = []
        for index, article in enumerate(self.articles):
            texts = [normalise(q, vocabulary) for q in article.questions]
            forms += texts
            owners += [index] * len(texts)
            documents.append(self.tokens(" ".join(texts)))
        self.bm25 = BM25Okapi(documents) if documents else None
        self.vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3),
                                          sublinear_tf=True)
        self.forms = self.vectoriser.fit_transform(forms) if forms else None
        self.owners = np.array(owners)

    def tokens(self, text: str) -> list[str]:
        return [t for t in self.tokenizer.lcut(text) if t.strip()]

    def search(self, text: str, limit: int = 5) -> list[Hit]:
        """The best `limit` articles for `text`, best first, each with its score (0-1)."""
        if self.bm25 is None or self.forms is None:
            return []
        query = normalise(text, self.vocabulary)
        if not query:
            return []
        bm25 = np.asarray(self.bm25.get_scores(self.tokens(query)), dtype=float)
        top = float(bm25.max()) if bm25.size else 0.0
        scaled = bm25 / top if top > 0 else bm25
        per_form = (self.forms @ self.vectoriser.transform([query]).T).toarray().ravel()
        cosine = np.zeros(len(self.articles))
        np.maximum.at(cosine, self.owners, per_form)
        score = self.bm25_weight * scaled + (1 - self.bm25_weight) * cosine
        order = np.argsort(-score, kind="stable")[:limit]
        return [Hit(self.articles[i], round(float(score[i]), 4)) for i in order
                if score[i] > 0]


def answer(hit: Hit) -> dict[str, Any]:
    """What is spoken and shown for a hit: always citing the article and its version."""
    a = hit.article
    return {"key": a.key, "version": a.version, "citation": a.citation, "title": a.title,
            "score": hit.score, "domain": a.domain, "short_answer": a.short_answer,
            "full_text": a.full_text, "follow_ups": list(a.follow_ups), "source": a.source,
            "unit": a.unit, "valid_from": a.valid_from, "valid_to": a.valid_to}
