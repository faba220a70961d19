"""A transcript classifier trained on the train split of the answer-phrasing corpus.

Character 1-3-grams (TF-IDF, sublinear) into a multinomial logistic regression (scikit-learn,
lbfgs: deterministic). Mandarin needs no word segmentation for this: 不满意, 没解决, 人工 are
character n-grams, and a misrecognised character costs only the n-grams it is in.

Trained at first use from ``adapters/asr/answer_phrasings.csv`` (train split only, normalised
as transcripts are) plus, when present, the recorded Whisper transcripts of the train split's
audio (``answer_transcripts.csv``, written by ``python -m tools.make_answer_corpus
--transcripts``): the classifier then also knows how Whisper mishears the answers (买意 for
满意). Nothing of the held-out split is ever read here. Training takes a fraction of a second,
so no model file is committed: the model is the corpus.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from adapters.asr.normalize import normalize_transcript
from adapters.asr.phrasings import phrasings

TRANSCRIPTS_PATH: Final = Path(__file__).resolve().parent / "answer_transcripts.csv"
NGRAMS: Final = (1, 3)
REGULARISATION: Final = 8.0  # LogisticRegression's C


@dataclass(frozen=True)
class Prediction:
    """The most likely corpus intent and the probability of each."""

    intent: str
    probability: float
    probabilities: dict[str, float]


class TranscriptClassifier:
    """Char n-gram logistic regression over the corpus intents."""

    def __init__(self, samples: Sequence[tuple[str, str]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        texts = [normalize_transcript(text) for text, _ in samples]
        labels = [intent for _, intent in samples]
        self.samples = len(samples)
        self._model: Any = make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True),
            LogisticRegression(C=REGULARISATION, max_iter=5000, class_weight="balanced"),
        )
        self._model.fit(texts, labels)
        self.intents: tuple[str, ...] = tuple(self._model.classes_)

    def predict(self, normalized: str) -> Prediction:
        """Probabilities for a normalised transcript (``normalize_transcript``)."""
        row = self._model.predict_proba([normalized])[0]
        probabilities = {intent: float(p) for intent, p in zip(self.intents, row, strict=True)}
        best = max(probabilities, key=lambda i: probabilities[i])
        return Prediction(best, probabilities[best], probabilities)


def recorded_transcripts(path: Path = TRANSCRIPTS_PATH) -> list[tuple[str, str]]:
    """(transcript, intent) of the train split's audio, as Whisper heard it."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["transcript"], row["intent"]) for row in csv.DictReader(handle)
                if row["split"] == "train" and row["transcript"].strip()]


def training_samples(extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The train phrasings, their recorded transcripts, and ``extra``."""
    samples = [(p.text, p.intent) for p in phrasings("train")]
    return samples + recorded_transcripts() + list(extra)


@cache
def default_classifier() -> TranscriptClassifier:
    """Trained once per process on the train split."""
    return TranscriptClassifier(training_samples())
