"""Intent of an answer to the callback question "请问您对处理结果满意吗？".

Two kinds of evidence, combined by explicit rules (each result carries its reason):

* Audio scores. Whisper scores every expected answer (满意, 不太满意, 转人工, ...) against the
  audio: the summed log-probability of the answer's tokens, teacher-forced, without a prompt
  (a prompt listing answers can flip 不满意 to 满意). A softmax over the candidates gives a
  posterior per intent. This picks the right answer even when the free transcript of a short,
  noisy answer is garbled (不太满意 heard as 故彩满意).
* Transcript keywords, negation first: 不满意/不太满意/没解决 in the transcript mean 不满意
  whatever the scores say; 人工/转人工/人工服务 mean 转人工.

Asymmetric on purpose: a negative answer taken for 满意 closes a complaint that should have
been followed up, so positive intents need strong audio evidence, no negative evidence in the
transcript and little posterior mass on 不满意; anything unclear is 未识别 (the robot asks
again). Thresholds are tuned on the espeak-ng fixtures in tests/fixtures/audio.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import cn2an

if TYPE_CHECKING:
    import os

    import numpy as np

    from adapters.asr.whisper import Transcription, WhisperRecognizer

SATISFIED: Final = "满意"
BASICALLY_SATISFIED: Final = "基本满意"
DISSATISFIED: Final = "不满意"
TRANSFER: Final = "转人工"
UNRECOGNIZED: Final = "未识别"
ANSWER_INTENTS: Final = (SATISFIED, BASICALLY_SATISFIED, DISSATISFIED, TRANSFER, UNRECOGNIZED)
POSITIVE: Final = frozenset({SATISFIED, BASICALLY_SATISFIED})

# The closed set scored against the audio: answer text -> intent. Kept short because every
# extra token is one more decoder step; shared prefixes (不…) are decoded once. Short or
# generic phrases (人工 alone, 还可以) were tried and dropped: they soak up probability on
# unclear audio ("查询工单" scored as 人工).
ANSWER_CANDIDATES: Final[Mapping[str, str]] = {
    "满意": SATISFIED,
    "非常满意": SATISFIED,
    "基本满意": BASICALLY_SATISFIED,
    "不满意": DISSATISFIED,
    "不太满意": DISSATISFIED,
    "没解决": DISSATISFIED,
    "转人工": TRANSFER,
    "人工服务": TRANSFER,
}

# Decision thresholds (log-probabilities in nats, posteriors in [0, 1]).
NO_SPEECH_PROB = 0.6  # whisper's own "nobody spoke" probability
POSITIVE_MIN_SCORE = -14.5  # best positive answer must be at least this likely
POSITIVE_MIN_POSTERIOR = 0.9  # P(满意 or 基本满意) among the answers
POSITIVE_MAX_NEGATIVE = 0.05  # P(不满意) tolerated before a positive turns into 未识别
NEGATIVE_MIN_POSTERIOR = 0.5  # P(不满意) that is enough for 不满意 (the safe direction)
NEGATIVE_MIN_SCORE = -20.0
TRANSFER_MIN_POSTERIOR = 0.9
TRANSFER_MIN_SCORE = -22.0

_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
# Negation first: these are checked before anything positive.
_NEGATIVE = re.compile(
    r"(不|没|未|别)(太|是很|是太|大|怎么|很|够|算)?满意|不(太)?满|没(有)?(解决|处理|办)|未解决"
    r"|不行|不好(?!意思)|很差|太差|差评|不认可|不同意|投诉"
)
_TRANSFER = re.compile(r"人工|转接|真人|接线员")
_BASIC = re.compile(r"基本|还可以|还行|一般|凑合|比较满意|还算满意")
_POSITIVE = re.compile(r"满意|很好|挺好|非常好|不错")
# "满意吗", "满不满意": the robot's own question echoed back, not an answer.
_QUESTION = re.compile(r"满意(吗|么|嘛|不)|满不满意|是否满意")


@dataclass(frozen=True)
class IntentResult:
    """One of ANSWER_INTENTS plus why."""

    intent: str
    reason: str
    transcript: str = ""
    keyword_intent: str | None = None
    posteriors: dict[str, float] = field(default_factory=dict)  # per intent, from the audio
    best_answer: str | None = None  # best-scoring candidate text
    best_score: float | None = None
    no_speech_prob: float | None = None


def is_dangerous_error(expected: str, predicted: str) -> bool:
    """A dissatisfied caller recorded as (basically) satisfied."""
    return expected == DISSATISFIED and predicted in POSITIVE


def normalize(text: str) -> str:
    """NFKC (full-width digits/letters to ASCII), drop spaces and punctuation."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text))


def keyword_intent(transcript: str) -> str | None:
    """Intent suggested by the transcript alone, negation first; None if it suggests none."""
    text = normalize(transcript)
    if not text:
        return None
    if _NEGATIVE.search(text):
        return DISSATISFIED
    if _TRANSFER.search(text):
        return TRANSFER
    if _QUESTION.search(text):
        return None
    if _BASIC.search(text):
        return BASICALLY_SATISFIED
    if _POSITIVE.search(text):
        return SATISFIED
    return None


def intent_posteriors(
    scores: Mapping[str, float], candidates: Mapping[str, str] = ANSWER_CANDIDATES
) -> dict[str, float]:
    """Softmax over candidate log-probabilities, summed per intent."""
    known = {c: s for c, s in scores.items() if c in candidates and math.isfinite(s)}
    if not known:
        return {}
    top = max(known.values())
    weights: dict[str, float] = {}
    for cand, score in known.items():
        intent = candidates[cand]
        weights[intent] = weights.get(intent, 0.0) + math.exp(score - top)
    total = sum(weights.values())
    return {intent: w / total for intent, w in sorted(weights.items(), key=lambda kv: -kv[1])}


def classify_transcript(transcript: str) -> IntentResult:
    """Keyword-only decision, for callers without audio scores (e.g. scoring unavailable).

    Positive intents are never given on keywords alone: a misheard 不 is too costly.
    """
    kw = keyword_intent(transcript)
    if kw in (DISSATISFIED, TRANSFER):
        return IntentResult(kw, f"transcript keyword → {kw}", transcript, kw)
    exact = ANSWER_CANDIDATES.get(normalize(transcript))
    if kw is not None and exact == kw:
        return IntentResult(kw, f"transcript is exactly the answer “{transcript}”", transcript, kw)
    reason = "no audio scores; positive keywords alone are not trusted" if kw else "no keyword"
    return IntentResult(UNRECOGNIZED, reason, transcript, kw)


# P(基本满意) from which a 满意 reading gives way to 基本满意 (clean 满意 fixtures: < 0.01).
WEAKER_READING_MIN = 0.25


def classify_scored(
    transcription: Transcription, candidates: Mapping[str, str] = ANSWER_CANDIDATES
) -> IntentResult:
    """Combine a transcription that carries candidate scores into one intent."""
    text = transcription.text
    kw = keyword_intent(text)
    post = intent_posteriors(transcription.scores, candidates)
    scored = {c: s for c, s in transcription.scores.items() if c in candidates}
    best_answer = max(scored, key=lambda c: scored[c]) if scored else None
    best_score = scored[best_answer] if best_answer is not None else None
    ns = transcription.no_speech_prob

    def result(intent: str, reason: str) -> IntentResult:
        return IntentResult(intent, reason, text, kw, post, best_answer, best_score, ns)

    def best_of(intents: frozenset[str] | set[str]) -> tuple[str | None, float]:
        best = [(s, c) for c, s in scored.items() if candidates[c] in intents]
        if not best:
            return None, -math.inf
        s, c = max(best)
        return c, s

    if transcription.skipped:
        return result(UNRECOGNIZED, f"no speech: {transcription.speech_seconds or 0.0:.2f} s "
                      "above the noise floor")
    if not scored:
        fallback = classify_transcript(text)
        return IntentResult(fallback.intent, fallback.reason, text, kw, {}, None, None, ns)

    # 1. Negative evidence wins over everything positive. (Real silence never gets here: the
    # recognizer's energy gate skips it, so no hallucinated "不满意" from an empty line.)
    if kw == DISSATISFIED:
        return result(DISSATISFIED, f"transcript “{text}” has a negative keyword")
    if kw == TRANSFER:
        return result(TRANSFER, f"transcript “{text}” asks for a human")
    p_neg = post.get(DISSATISFIED, 0.0)
    neg_cand, neg_score = best_of({DISSATISFIED})
    if p_neg >= NEGATIVE_MIN_POSTERIOR and neg_score >= NEGATIVE_MIN_SCORE:
        return result(DISSATISFIED, f"audio matches “{neg_cand}” (P(不满意)={p_neg:.2f})")
    # 2. A request for a human: not dangerous when wrong, so a looser score floor.
    p_transfer = post.get(TRANSFER, 0.0)
    tr_cand, tr_score = best_of({TRANSFER})
    if p_transfer >= TRANSFER_MIN_POSTERIOR and tr_score >= TRANSFER_MIN_SCORE:
        return result(TRANSFER, f"audio matches “{tr_cand}” (P={p_transfer:.2f})")
    # 3. Positive only with strong audio evidence, speech (whisper's own no-speech
    # probability), and nothing negative anywhere.
    p_pos = post.get(SATISFIED, 0.0) + post.get(BASICALLY_SATISFIED, 0.0)
    pos_cand, pos_score = best_of(POSITIVE)
    if pos_cand is None:
        return result(UNRECOGNIZED, "no positive candidate scored")
    if ns is not None and ns >= NO_SPEECH_PROB:
        return result(UNRECOGNIZED, f"whisper hears no speech (P={ns:.2f})")
    if kw is None and _QUESTION.search(normalize(text)):
        return result(UNRECOGNIZED, f"transcript “{text}” is the question, not an answer")
    if pos_score < POSITIVE_MIN_SCORE:
        return result(
            UNRECOGNIZED, f"best answer “{pos_cand}” too unlikely ({pos_score:.1f} nats)"
        )
    if p_pos < POSITIVE_MIN_POSTERIOR or p_neg > POSITIVE_MAX_NEGATIVE:
        return result(
            UNRECOGNIZED, f"ambiguous: P(positive)={p_pos:.2f}, P(不满意)={p_neg:.3f}"
        )
    intent = candidates[pos_cand]
    if kw == BASICALLY_SATISFIED:
        intent = BASICALLY_SATISFIED  # "基本…" in the transcript: the weaker reading
    elif intent == SATISFIED and post.get(BASICALLY_SATISFIED, 0.0) >= WEAKER_READING_MIN:
        # 满意 and 基本满意 nearly tied (codec-damaged "基本"): satisfaction figures must
        # not be inflated, so the weaker reading wins.
        return result(BASICALLY_SATISFIED, f"满意/基本满意 close (P(基本满意)="
                      f"{post.get(BASICALLY_SATISFIED, 0.0):.2f}): the weaker reading")
    return result(intent, f"audio matches “{pos_cand}” (P(positive)={p_pos:.2f})")


def classify_answer(
    recognizer: WhisperRecognizer,
    audio: np.ndarray | str | os.PathLike[str],
    *,
    sample_rate: int = 16000,
) -> tuple[IntentResult, Transcription]:
    """Transcribe ``audio`` with candidate scoring and classify it."""
    from adapters.asr.whisper import ScoringUnavailableError

    try:
        transcription = recognizer.transcribe(
            audio, sample_rate=sample_rate, candidates=tuple(ANSWER_CANDIDATES)
        )
    except ScoringUnavailableError:
        transcription = recognizer.transcribe(audio, sample_rate=sample_rate)
    return classify_scored(transcription), transcription


# --------------------------------------------------------------------------- progress query

_QUERY = re.compile(r"查询|查一下|查一查|查查|帮我查|查")
_NUMERAL_CHARS = "0123456789零〇一二三四五六七八九十百千万两幺洞"
_NUMBER_RUN = re.compile(f"[{_NUMERAL_CHARS}]{{4,}}")
# Digit-by-digit reading, including phone-style 幺 (1) and 洞 (0), keeps leading zeros.
_DIGIT = {
    **{str(d): str(d) for d in range(10)},
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_UNITS = frozenset("十百千万")
MIN_TICKET_DIGITS = 4


def parse_progress_query(transcript: str) -> str | None:
    """Ticket number from "查询 + 工单号" (Arabic or spoken Chinese numerals), else None.

    "查询工单二零二四零三一五零零一二" -> "202403150012"; "查一下工单号幺二三四五" -> "12345";
    "查询一万二千三百四十五号" -> "12345" (positional numerals go through cn2an).
    """
    text = normalize(transcript)
    query = _QUERY.search(text)
    if query is None:
        return None
    for run in _NUMBER_RUN.findall(text[query.end() :]):
        if _UNITS & set(run):
            try:
                number = str(int(cn2an.cn2an(run.replace("幺", "一").replace("洞", "零"), "smart")))
            except (ValueError, KeyError, TypeError):
                continue
        else:
            number = "".join(_DIGIT[ch] for ch in run)
        if len(number) >= MIN_TICKET_DIGITS:
            return number
    return None
