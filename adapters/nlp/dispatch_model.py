"""The dispatch history model: which unit the centre's own past dispatches say handles a
request like this one (domain/dispatch/ranking.py's HistoryModel).

Features: character 1-3-grams (TF-IDF, sublinear: a typo costs only the n-grams it is in),
jieba words with the catalogue's keywords and item names as a user dictionary (so 拖欠工资
and 楼道堆物 stay one word), and the request's region (each level: 甬江区, 甬江区东湖街道) and
category as tokens, so a street office wins where the text is the same for every street.
A linear model over them (scikit-learn's SGD logistic regression, fixed seed:
deterministic); `update` continues training on orders dispatched since (partial_fit on the
same vocabulary).

Returns: the returned orders (退单) are kept as normalised character vectors with the unit
that returned them; a unit that returned orders similar to a request (cosine ≥
RETURN_SIMILARITY) is named so the ranking can lower it.

Nothing is downloaded: jieba's dictionary ships inside its package. The trained model is
pickled into the store (adapters/dispatch.py), never loaded from anywhere else.
"""

from __future__ import annotations

import logging
import pickle
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

RETURN_SIMILARITY = 0.5
MAX_RETURNED = 20_000  # most recent returned orders kept for the similarity check
CONTEXT_WEIGHT = 0.4  # region and category tokens, against text features of norm 1
MAX_CHAR_FEATURES = 100_000  # the commonest n-grams: bounds the model's size at any history
FORMAT = 2  # bump when the pickled layout changes (an old model is then retrained)


@dataclass(frozen=True)
class PastOrder:
    """One row of the dispatch history read model."""

    content: str
    category: str
    region: str
    lead: str  # the unit that kept it (the last dispatch's lead; "" while returned)
    returned_by: tuple[str, ...] = ()  # units that returned it before


def normalized(text: str) -> str:
    """Full-width forms folded (ＡＢＣ１２３, full-width punctuation), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def context_tokens(category: str, region: str) -> list[str]:
    tokens = [f"C={category}"]
    for end in range(1, len(region) + 1):
        if region[end - 1] in "区县市镇乡道":  # each administrative level: 甬江区, …东湖街道
            tokens.append(f"R={region[:end]}")
    return tokens


def _tokens(values: list[str]) -> list[str]:
    """The pre-tokenised analyzer (a module function: the vectorizer pickles)."""
    return values


class _Words:
    """jieba with the catalogue's terms as a user dictionary (its own instance: the global
    tokenizer is shared with anything else in the process)."""

    def __init__(self, terms: Iterable[str]) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" lines on stderr
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        for term in sorted(set(terms)):
            if term.strip():
                self.tokenizer.add_word(term, freq=20_000)

    def __call__(self, text: str) -> list[str]:
        return [w for w in self.tokenizer.lcut(text) if w.strip()]


class DispatchModel:
    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = tuple(terms)
        self.orders = 0
        self.trained_at = ""
        self._words: _Words | None = None
        self._char: Any = None
        self._word: Any = None
        self._context: Any = None
        self._classifier: Any = None
        self._returned: Any = None  # sparse rows: normalised char vectors of returned orders
        self._returned_by: list[str] = []
        self._fast: ServingModel | None = None

    # ----- features ------------------------------------------------------------------
    def words(self, text: str) -> list[str]:
        if self._words is None:
            self._words = _Words(self.terms)
        return self._words(text)

    def _features(self, orders: Sequence[tuple[str, str, str]], fit: bool = False) -> Any:
        from scipy.sparse import hstack

        texts = [normalized(content) for content, _, _ in orders]
        words = [self.words(text) for text in texts]
        contexts = [context_tokens(category, region) for _, category, region in orders]
        if fit:
            from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

            self._char = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                                         max_features=MAX_CHAR_FEATURES, dtype=np.float32)
            self._word = TfidfVectorizer(analyzer=_tokens, sublinear_tf=True, dtype=np.float32)
            self._context = CountVectorizer(analyzer=_tokens, binary=True, dtype=np.float32)
            chars = self._char.fit_transform(texts)
            word_part = self._word.fit_transform(words)
            context = self._context.fit_transform(contexts)
        else:
            chars = self._char.transform(texts)
            word_part = self._word.transform(words)
            context = self._context.transform(contexts)
        return hstack([chars, word_part, context * CONTEXT_WEIGHT]).tocsr(), chars

    # ----- training -------------------------------------------------------------------
    def fit(self, history: Sequence[PastOrder], trained_at: str) -> DispatchModel:
        """Train on every past order with a lead unit; orders without one (returned and not
        yet dispatched again) still count for their returns."""
        from sklearn.linear_model import SGDClassifier

        if len({o.lead for o in history if o.lead}) < 2:
            raise ValueError("at least two units must appear in the dispatch history")
        features, chars = self._features([(o.content, o.category, o.region) for o in history],
                                         fit=True)
        labelled = [i for i, o in enumerate(history) if o.lead]
        # Passes over the data: 40 for a small history, fewer as it grows (each pass then
        # sees more examples; 100,000 orders train in seconds, not minutes).
        epochs = min(40, max(5, 200_000 // max(len(labelled), 1)))
        self._classifier = SGDClassifier(loss="log_loss", alpha=5e-5, max_iter=epochs,
                                         tol=None, random_state=14)
        self._classifier.fit(features[labelled], [history[i].lead for i in labelled])
        self._keep_returns(history, chars)
        self._fast = None
        self.orders = len(labelled)
        self.trained_at = trained_at
        return self

    def update(self, history: Sequence[PastOrder], trained_at: str) -> DispatchModel:
        """Continue training on orders dispatched since the last training (their units
        must be among the units the model knows; others wait for a full retraining)."""
        known = set(self._classifier.classes_)
        if history:
            features, chars = self._features([(o.content, o.category, o.region)
                                              for o in history])
            labelled = [i for i, o in enumerate(history) if o.lead in known]
            if labelled:
                for _epoch in range(5):
                    self._classifier.partial_fit(features[labelled],
                                                 [history[i].lead for i in labelled])
            self._keep_returns(history, chars, append=True)
            self._fast = None
            self.orders += len(labelled)
        self.trained_at = trained_at
        return self

    def _keep_returns(self, orders: Sequence[PastOrder], chars: Any, append: bool = False
                      ) -> None:
        from scipy.sparse import vstack

        rows = [i for i, o in enumerate(orders) for _ in o.returned_by]
        units = [unit for o in orders for unit in o.returned_by]
        block = chars[rows] if rows else None
        if append and self._returned is not None:
            block = self._returned if block is None else vstack([self._returned, block])
            units = self._returned_by + units
        if block is not None and block.shape[0] > MAX_RETURNED:
            block, units = block[-MAX_RETURNED:], units[-MAX_RETURNED:]
        self._returned, self._returned_by = (block.tocsr() if block is not None else None,
                                             units)

    # ----- HistoryModel ---------------------------------------------------------------
    def serving(self) -> ServingModel:
        """What answering requests needs, without scikit-learn (made once per training)."""
        if self._fast is None:
            self._fast = ServingModel.of(self)
        return self._fast

    def unit_scores(self, content: str, category: str, region: str) -> dict[str, float]:
        return self.serving().unit_scores(content, category, region)

    def returned_similar(self, content: str, category: str, region: str) -> dict[str, int]:
        return self.serving().returned_similar(content, category, region)

    # ----- storage --------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The serving part (plain numbers and dicts: loading it imports no scikit-learn,
        a CLI run saves ~1 s) and, packed inside, the training part for `update`."""
        training = {k: v for k, v in self.__dict__.items() if k not in _DERIVED}
        return pickle.dumps({"format": FORMAT, "serving": self.serving().state(),
                             "training": pickle.dumps(training, protocol=5)}, protocol=5)

    @classmethod
    def from_bytes(cls, data: bytes) -> DispatchModel | None:
        """The stored model for further training, or None when in an older layout."""
        outer = _outer(data)
        if outer is None:
            return None
        model = cls(())
        model.__dict__.update(pickle.loads(outer["training"]))  # noqa: S301 - our own
        for name in _DERIVED:
            setattr(model, name, None)
        return model


_DERIVED = ("_words", "_fast")  # rebuilt after loading, never pickled


def _outer(data: bytes) -> dict[str, Any] | None:
    loaded = pickle.loads(data)  # noqa: S301 - our own artefact, from our own store
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        return None
    return loaded


@dataclass(frozen=True)
class _Query:
    columns: Any  # feature columns of the request (all blocks) and their values
    values: Any
    char_columns: Any  # the character block alone (for the similarity to returns)
    char_values: Any


class ServingModel:
    """The trained model as answering one request needs it: each block's vocabulary and
    idf, the classifier's weights as contiguous rows per feature, the returns by column.
    One request's features are computed as the vectorizers would (TF-IDF, sublinear, l2
    per block) without scikit-learn's per-call validation and sparse building, which cost
    more than the arithmetic for one row."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.terms: tuple[str, ...] = state["terms"]
        self.orders: int = state["orders"]
        self.trained_at: str = state["trained_at"]
        self.char_vocabulary: dict[str, int] = state["char_vocabulary"]
        self.char_idf: Any = state["char_idf"]
        self.word_vocabulary: dict[str, int] = state["word_vocabulary"]
        self.word_idf: Any = state["word_idf"]
        self.context_vocabulary: dict[str, int] = state["context_vocabulary"]
        self.weights: Any = state["weights"]  # features x classes
        self.intercept: Any = state["intercept"]
        self.classes: tuple[str, ...] = state["classes"]
        self.returned: Any = state["returned"]  # CSC: returns x char features, or None
        self.returned_by: list[str] = state["returned_by"]
        self._words: _Words | None = None
        self._last: tuple[tuple[str, str, str], _Query] | None = None  # one-request memo

    @classmethod
    def of(cls, model: DispatchModel) -> ServingModel:
        classifier = model._classifier
        return cls({
            "terms": model.terms, "orders": model.orders, "trained_at": model.trained_at,
            "char_vocabulary": dict(model._char.vocabulary_),
            "char_idf": np.asarray(model._char.idf_, dtype=np.float64),
            "word_vocabulary": dict(model._word.vocabulary_),
            "word_idf": np.asarray(model._word.idf_, dtype=np.float64),
            "context_vocabulary": dict(model._context.vocabulary_),
            "weights": np.ascontiguousarray(classifier.coef_.T),
            "intercept": np.asarray(classifier.intercept_),
            "classes": tuple(str(c) for c in classifier.classes_),
            "returned": model._returned.tocsc() if model._returned is not None else None,
            "returned_by": list(model._returned_by)})

    def state(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    @classmethod
    def from_bytes(cls, data: bytes) -> ServingModel | None:
        """The stored model for answering, or None when in an older layout."""
        outer = _outer(data)
        return cls(outer["serving"]) if outer is not None else None

    def _query(self, content: str, category: str, region: str) -> _Query:
        key = (content, category, region)
        last = self._last  # read once: another thread may replace it meanwhile
        if last is not None and last[0] == key:
            return last[1]
        if self._words is None:
            self._words = _Words(self.terms)
        text = normalized(content)
        chars, char_values = _tfidf(_char_ngrams(text), self.char_vocabulary, self.char_idf)
        word_columns, word_values = _tfidf(self._words(text), self.word_vocabulary,
                                           self.word_idf)
        context_columns = np.array(sorted({self.context_vocabulary[t]
                                           for t in context_tokens(category, region)
                                           if t in self.context_vocabulary}), dtype=np.int64)
        offset_word = len(self.char_vocabulary)
        offset_context = offset_word + len(self.word_vocabulary)
        made = _Query(
            np.concatenate([chars, word_columns + offset_word, context_columns + offset_context]),
            np.concatenate([char_values, word_values,
                            np.full(len(context_columns), CONTEXT_WEIGHT)]),
            chars, char_values)
        self._last = (key, made)
        return made

    def unit_scores(self, content: str, category: str, region: str) -> dict[str, float]:
        query = self._query(content, category, region)
        # SGDClassifier.predict_proba for log loss: one-vs-rest logistic scores, normalised
        # to sum to 1.
        decision = query.values @ self.weights[query.columns] + self.intercept
        odds = 1.0 / (1.0 + np.exp(-decision))
        if len(self.classes) == 2:
            odds = np.array([1.0 - odds[0], odds[0]])
        total = float(odds.sum()) or 1.0
        return {unit: float(p) / total for unit, p in zip(self.classes, odds, strict=True)}

    def returned_similar(self, content: str, category: str, region: str) -> dict[str, int]:
        if self.returned is None:
            return {}
        query = self._query(content, category, region)
        # Cosine against every kept return, reading only the columns the request has.
        similarity = self.returned[:, query.char_columns] @ query.char_values
        counts: dict[str, int] = {}
        for index in np.flatnonzero(np.asarray(similarity).ravel() >= RETURN_SIMILARITY):
            unit = self.returned_by[int(index)]
            counts[unit] = counts.get(unit, 0) + 1
        return counts


_SPACES = re.compile(r"\s\s+")


def _char_ngrams(text: str) -> list[str]:
    """TfidfVectorizer(analyzer="char", ngram_range=(1, 3))'s n-grams (lower case already)."""
    text = _SPACES.sub(" ", text)
    return [text[i:i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1)]


def _tfidf(tokens: list[str], vocabulary: dict[str, int], idf: Any) -> tuple[Any, Any]:
    """TfidfVectorizer(sublinear_tf=True, norm="l2").transform of one document."""
    counts: dict[int, int] = {}
    for token in tokens:
        column = vocabulary.get(token)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
    values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64,
                                       count=len(counts)))) * idf[columns]
    norm = float(np.linalg.norm(values))
    return columns, (values / norm if norm else values)
