"""Knowledge-base retrieval: five signals over each valid article's fields, fused with weights.

Query and articles are normalised alike: OpenCC traditional -> simplified (Whisper writes
either), NFKC (full-width forms), lower case, punctuation and fillers (请问, 我想问一下,
那个 ...) out, callers' spoken forms mapped to the base's terms (config/kb/terms.toml).
Words are cut by jieba on a tokenizer of its own (the dispatch model's dictionary is
untouched) with the base's terms as a user dictionary, in search mode (a long word also
yields its parts: 城乡居民养老保险 meets 居民养老保险). The signals, each 0-1:

- ``bm25``: BM25 (rank-bm25) over the question forms and title, scaled to the best article;
- ``forms``: character n-gram TF-IDF cosine with the closest single question form or title
  (robust to typos and to words split differently);
- ``answer_bm25``: BM25 over the short answer and full text, scaled to the best article
  (a question put in the answer's words: 伤残鉴定 is in the answer, not in a 问法);
- ``answer``: character n-gram cosine with the short answer and full text;
- ``pinyin``: syllable (1-2 gram) TF-IDF cosine with the closest form in toneless pinyin
  (pypinyin): the recogniser's homophones (认正 for 认证, 失业进 for 失业金) still meet;
- ``domain``: word TF-IDF cosine with the article's whole domain (社保, 医保, ... each one
  document of its articles' forms, titles and short answers), scaled to the best domain: a
  question that says 户口 leans to 户籍's articles when its other words fit several domains.

The fused score (the weights' average) ranks. Whether the best hit is spoken is a separate,
absolute test, because a scaled BM25 is 1 for the best article of any question, even one
the base knows nothing about: the best hit answers only when it scores ``MIN_SCORE`` and
its **coverage** (its raw BM25 over the most a question of those words could score, words
the base never uses counting as rare ones) reaches ``MIN_COVERAGE``. A noise complaint,
weather or unpaid wages share a word or two with some article, never most of their weight.

The weights and both thresholds were chosen by ``python -m tools.bench kb --tune`` on the
benchmark's train split only (cross-validated over groups of articles).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from adapters.asr.normalize import to_simplified
from domain.errors import InvalidInput, shown
from domain.kb.article import KbArticle
from domain.settings_file import read_toml

TERMS_FILE: Final = Path(__file__).resolve().parents[1] / "config" / "kb" / "terms.toml"
SIGNALS: Final = ("bm25", "forms", "answer_bm25", "answer", "pinyin", "domain")


@dataclass(frozen=True)
class Weights:
    """How much each signal counts in the fused score (SIGNALS' order)."""
    bm25: float = 0.2
    forms: float = 0.6
    answer_bm25: float = 0.2
    answer: float = 0.0
    pinyin: float = 0.1
    domain: float = 0.1

    def vector(self) -> np.ndarray:
        values = np.array([getattr(self, name) for name in SIGNALS], dtype=float)
        return values / values.sum()


WEIGHTS: Final = Weights()  # chosen on the train split (tools/bench_kb.py --tune)
MIN_SCORE: Final = 0.45     # below it: nothing in the base answers the question
MIN_COVERAGE: Final = 0.08  # nor when the best article covers too little of its words
_PUNCT: Final = re.compile(r"[\s，。？！、；：,.?!;:“”\"'（）()《》【】\[\]…—~～·]+")
_FILLERS: Final = ("请问一下", "请问", "你好", "您好", "麻烦问一下", "麻烦问下", "我想问一下",
                   "我想问", "想问一下", "问一下", "想咨询一下", "咨询一下", "我想咨询", "那个",
                   "就是", "一下", "喂", "呢", "啊", "呀", "吧", "嘛", "哦")


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


def normalise(text: str, vocabulary: Vocabulary, *, fillers: bool = True) -> str:
    """Simplified, half-width, lower case; punctuation (and fillers) out; spoken forms
    mapped to the base's terms."""
    text = _PUNCT.sub(" ", unicodedata.normalize("NFKC", to_simplified(text)).lower())
    if fillers:
        for filler in _FILLERS:
            text = text.replace(filler, " ")
    for spoken, term in vocabulary.synonyms:
        text = text.replace(spoken, f" {term} ")
    return " ".join(text.split())


@dataclass(frozen=True)
class Hit:
    article: KbArticle
    score: float     # the fused score (0-1)
    coverage: float  # how much of the question's word weight the article's forms carry (0-1)


class _Bm25:
    """BM25 over tokenised documents, scaled (to the best) and absolute (coverage)."""

    def __init__(self, documents: list[list[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.model = BM25Okapi(documents)
        self.rare = max(self.model.idf.values()) if self.model.idf else 1.0

    def scores(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        raw = np.asarray(self.model.get_scores(tokens), dtype=float)
        top = float(raw.max()) if raw.size else 0.0
        most = sum(self.model.idf.get(t, self.rare) for t in set(tokens)) * (self.model.k1 + 1)
        return (raw / top if top > 0 else raw), (raw / most if most > 0 else raw)


class _Cosine:
    """TF-IDF cosine of a query with texts, the best text per article."""

    def __init__(self, vectoriser: Any, texts: list[str], owners: list[int],
                 articles: int) -> None:
        self.vectoriser = vectoriser  # fitted
        self.matrix = vectoriser.transform(texts)
        self.owners = np.array(owners)
        self.articles = articles

    def scores(self, query: str) -> np.ndarray:
        per_text = (self.matrix @ self.vectoriser.transform([query]).T).toarray().ravel()
        best = np.zeros(self.articles)
        np.maximum.at(best, self.owners, per_text)
        return best


def _pinyin() -> Callable[[str], str]:
    from pypinyin import lazy_pinyin

    return lambda text: " ".join(s for s in lazy_pinyin(text.replace(" ", "")) if s.strip())


@lru_cache(maxsize=4)
def _tokenizer(terms: tuple[str, ...]) -> Any:
    """jieba with the base's terms, made once per set of terms (loading jieba's dictionary
    takes seconds; a rebuilt retriever keeps it)."""
    import jieba

    jieba.setLogLevel(60)  # it announces its dictionary load on stderr otherwise
    tokenizer = jieba.Tokenizer()
    for term in terms:
        tokenizer.add_word(term, freq=20000)
    return tokenizer


class Retriever:
    """Search over `articles` (the valid ones: the caller filters by date)."""

    def __init__(self, articles: Sequence[KbArticle], vocabulary: Vocabulary,
                 weights: Weights = WEIGHTS) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.articles = list(articles)
        self.vocabulary = vocabulary
        self.weights = weights.vector()
        self.tokenizer = _tokenizer(vocabulary.terms)
        self.pinyin = _pinyin()
        self._ready = bool(self.articles)
        if not self._ready:
            return
        forms: list[str] = []
        owners: list[int] = []
        form_documents: list[list[str]] = []
        answers: list[str] = []
        for index, article in enumerate(self.articles):
            texts = [normalise(q, vocabulary) for q in [*article.questions, article.title]]
            forms += texts
            owners += [index] * len(texts)
            form_documents.append(self.tokens(" ".join(texts)))
            answers.append(normalise(f"{article.short_answer} {article.full_text}", vocabulary,
                                     fillers=False))
        self.bm25 = _Bm25(form_documents)
        self.answer_bm25 = _Bm25([self.tokens(a) for a in answers])
        n = len(self.articles)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        chars.fit(forms + answers)  # one character vocabulary for forms and answers
        self.forms = _Cosine(chars, forms, owners, n)
        self.answers = _Cosine(chars, answers, list(range(n)), n)
        sounds = [self.pinyin(f) for f in forms]
        syllables = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2),
                                    sublinear_tf=True).fit(sounds)
        self.sounds = _Cosine(syllables, sounds, owners, n)
        domains = sorted({a.domain for a in self.articles})
        self.domain_of = np.array([domains.index(a.domain) for a in self.articles])
        words = TfidfVectorizer(analyzer=str.split, sublinear_tf=True)
        self.domains = words.fit_transform([" ".join(
            " ".join(self.tokens(normalise(f"{a.title} {' '.join(a.questions)} {a.short_answer}",
                                           vocabulary)))
            for a in self.articles if a.domain == d) for d in domains])
        self.words = words

    def tokens(self, text: str) -> list[str]:
        return [t for t in self.tokenizer.lcut_for_search(text) if t.strip()]

    def signals(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Each article's signals (SIGNALS x articles) and coverage, or None (nothing to
        search: an empty base or a question of fillers only)."""
        query = normalise(text, self.vocabulary)
        if not self._ready or not query:
            return None
        tokens = self.tokens(query)
        bm25, coverage = self.bm25.scores(tokens)
        answer_bm25, _ = self.answer_bm25.scores(tokens)
        domain = (self.domains @ self.words.transform([" ".join(tokens)]).T).toarray().ravel()
        top = float(domain.max())
        stacked = np.stack([bm25, self.forms.scores(query), answer_bm25,
                            self.answers.scores(query), self.sounds.scores(self.pinyin(query)),
                            (domain / top if top > 0 else domain)[self.domain_of]])
        return stacked, coverage

    def search(self, text: str, limit: int = 5) -> list[Hit]:
        """The best `limit` articles for `text`, best first, each with its score (0-1)."""
        found = self.signals(text)
        if found is None:
            return []
        stacked, coverage = found
        score = self.weights @ stacked
        order = np.argsort(-score, kind="stable")[:limit]
        return [Hit(self.articles[i], round(float(score[i]), 4), round(float(coverage[i]), 4))
                for i in order if score[i] > 0]


def answers(hit: Hit | None, min_score: float = MIN_SCORE,
            min_coverage: float = MIN_COVERAGE) -> bool:
    """Whether the best hit may be spoken as the answer."""
    return hit is not None and hit.score >= min_score and hit.coverage >= min_coverage


def answer(hit: Hit) -> dict[str, Any]:
    """What is spoken and shown for a hit: always citing the article and its version."""
    a = hit.article
    return {"key": a.key, "version": a.version, "citation": a.citation, "title": a.title,
            "score": hit.score, "coverage": hit.coverage, "domain": a.domain,
            "short_answer": a.short_answer, "full_text": a.full_text,
            "follow_ups": list(a.follow_ups), "source": a.source, "unit": a.unit,
            "valid_from": a.valid_from, "valid_to": a.valid_to}
