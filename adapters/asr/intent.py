"""Intent of an answer to the callback question "您对办理结果是否满意？".

Three kinds of evidence, combined by explicit, asymmetric rules (each result carries its
reason):

* Transcript cues (``adapters.asr.cues``), read on the normalised transcript
  (``adapters.asr.normalize``: OpenCC traditional -> simplified, full-width, hallucinated
  loops and credits removed): negation beyond 不 (没有, 谈不上, 一点也不, 失望, 问题还在,
  没人管, 没用), sarcasm (满意什么呀), concessions whose second clause negates (满意是满意，
  但是……), hand-off requests (人工客服, 真人, 找你们领导, 我要投诉), and any negation the layer
  cannot resolve (``doubt``).
* A transcript classifier (``adapters.asr.classifier``): character n-grams and a logistic
  regression trained on the train split of the phrasing corpus; it turns answers with words
  around them ("挺不错的", "可以可以，谢谢你们") into positive evidence.
* Audio scores. Whisper scores every expected short answer (满意, 不太满意, 转人工, ...)
  against the audio: the summed log-probability of the answer's tokens, teacher-forced,
  without a prompt (a prompt listing answers can flip 不满意 to 满意). A softmax over the
  candidates gives a posterior per intent. This picks the right short answer even when its
  free transcript is garbled (不太满意 heard as 故彩满意), and it hears a 不 that the
  transcript dropped.

Asymmetric on purpose: a negative answer taken for 满意 closes a complaint that should have
been followed up. So negative evidence from any source wins; a positive intent needs the
classifier or the audio to be sure, no negative cue, no unresolved negation, and no audio
leaning to 不满意; a concession makes it 基本满意 at most; anything unclear is 未识别 (the
robot asks again) and a lukewarm answer (还行, 一般) is 一般 (the robot asks "那您是基本满意吗？").
Thresholds are tuned on the train split of the corpus only (tests/fixtures/audio_corpus/train
and the train phrasings); the held-out split is for measuring.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import cn2an

from adapters.asr.cues import Cues, read_cues
from adapters.asr.normalize import normalize_transcript
from adapters.asr.phrasings import LUKEWARM

if TYPE_CHECKING:
    import os

    import numpy as np

    from adapters.asr.whisper import Transcription, WhisperRecognizer

SATISFIED: Final = "满意"
BASICALLY_SATISFIED: Final = "基本满意"
DISSATISFIED: Final = "不满意"
TRANSFER: Final = "转人工"
UNRECOGNIZED: Final = "未识别"
ANSWER_INTENTS: Final = (SATISFIED, BASICALLY_SATISFIED, DISSATISFIED, TRANSFER, LUKEWARM,
                         UNRECOGNIZED)
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
# The transcript classifier (probabilities of the corpus intents).
CLASSIFIER_NEGATIVE_MIN = 0.5  # P(不满意) that makes the answer 不满意
CLASSIFIER_TRANSFER_MIN = 0.7  # a misheard progress query (查询工单…) must not become one
CLASSIFIER_POSITIVE_MIN = 0.6  # P(满意) + P(基本满意) for a positive reading
CLASSIFIER_POSITIVE_MAX_NEGATIVE = 0.2  # P(不满意) tolerated beside a positive reading
CLASSIFIER_LUKEWARM_MIN = 0.4
CLASSIFIER_SURE = 0.8  # a positive transcript that outweighs a short negative audio match
# Audio P(不满意) above which a positive transcript is not believed (a 不 it may have lost),
# when the best negative candidate is at least plausible (NEGATIVE_MIN_SCORE).
AUDIO_VETO_NEGATIVE = POSITIVE_MAX_NEGATIVE
# P(基本满意) from which a 满意 reading gives way to 基本满意 (clean 满意 fixtures: < 0.01).
WEAKER_READING_MIN = 0.25


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
    normalized: str = ""  # the transcript as the cues and the classifier read it
    classifier: dict[str, float] = field(default_factory=dict)  # per corpus intent


def is_dangerous_error(expected: str, predicted: str) -> bool:
    """A dissatisfied caller recorded as (basically) satisfied."""
    return expected == DISSATISFIED and predicted in POSITIVE


def normalize(text: str) -> str:
    """The transcript as rules and the classifier read it (``normalize_transcript``)."""
    return normalize_transcript(text)


def _cue_intent(cues: Cues) -> str | None:
    if cues.negative:
        return DISSATISFIED
    if cues.handoff:
        return TRANSFER
    return None


def keyword_intent(transcript: str) -> str | None:
    """Intent the transcript's cues alone make certain or suggest, negation first; None if
    they suggest none (the question echoed back suggests none)."""
    cues = read_cues(normalize_transcript(transcript))
    certain = _cue_intent(cues)
    if certain or cues.echo:
        return certain
    if cues.basic:
        return BASICALLY_SATISFIED
    if cues.lukewarm:
        return LUKEWARM
    if not cues.doubt and re.search(r"满意|好|不错|棒", normalize_transcript(transcript)):
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


def _classify_text(text: str) -> tuple[str, Cues, dict[str, float]]:
    from adapters.asr.classifier import default_classifier

    normalized = normalize_transcript(text)
    cues = read_cues(normalized)
    probabilities = default_classifier().predict(normalized).probabilities if normalized else {}
    return normalized, cues, probabilities


def classify_transcript(transcript: str) -> IntentResult:
    """Transcript-only decision, for callers without audio scores (scoring unavailable).

    The same cues and classifier as with scores, but without the audio nobody can hear a 不
    that the transcript lost, so a positive needs the classifier to be sure and the
    transcript to say 满意 in so many words."""
    return classify_scored(_text_only(transcript))


def _text_only(transcript: str) -> Transcription:
    from adapters.asr.whisper import Transcription

    return Transcription(transcript, 0.0, 0.0, 0.0)


def classify_scored(
    transcription: Transcription, candidates: Mapping[str, str] = ANSWER_CANDIDATES
) -> IntentResult:
    """Combine a transcription (with or without candidate scores) into one intent."""
    text = transcription.text
    normalized, cues, clf = _classify_text(text)
    kw = _cue_intent(cues)
    post = intent_posteriors(transcription.scores, candidates)
    scored = {c: s for c, s in transcription.scores.items() if c in candidates}
    best_answer = max(scored, key=lambda c: scored[c]) if scored else None
    best_score = scored[best_answer] if best_answer is not None else None
    ns = transcription.no_speech_prob

    def result(intent: str, reason: str) -> IntentResult:
        return IntentResult(intent, reason, text, kw, post, best_answer, best_score, ns,
                            normalized, clf)

    def best_of(intents: frozenset[str] | set[str]) -> tuple[str | None, float]:
        best = [(s, c) for c, s in scored.items() if candidates[c] in intents]
        if not best:
            return None, -math.inf
        s, c = max(best)
        return c, s

    if transcription.skipped:
        return result(UNRECOGNIZED, f"no speech: {transcription.speech_seconds or 0.0:.2f} s "
                      "above the noise floor")
    # 1. Negative evidence wins over everything positive. (Real silence never gets here: the
    # recognizer's energy gate skips it, so no hallucinated "不满意" from an empty line.)
    # Decided before any score is read: needs_audio_scores lets classify_answer skip them.
    if cues.negative:
        return result(DISSATISFIED, f"transcript “{text}” is negative (“{cues.negative}”)")
    if cues.handoff:
        return result(TRANSFER, f"transcript “{text}” asks for a person (“{cues.handoff}”)")
    p_neg = post.get(DISSATISFIED, 0.0)
    neg_cand, neg_score = best_of({DISSATISFIED})
    c_neg = clf.get(DISSATISFIED, 0.0)
    c_pos = clf.get(SATISFIED, 0.0) + clf.get(BASICALLY_SATISFIED, 0.0)
    if p_neg >= NEGATIVE_MIN_POSTERIOR and neg_score >= NEGATIVE_MIN_SCORE:
        if c_pos >= CLASSIFIER_SURE and not cues.doubt:
            # The closed set only has short answers: a longer positive one ("已经解决了，谢谢")
            # can score best as "没解决". Not recorded either way: asked again.
            return result(UNRECOGNIZED, f"audio matches “{neg_cand}” (P(不满意)={p_neg:.2f}) "
                          f"but the transcript “{normalized}” is positive (P={c_pos:.2f})")
        return result(DISSATISFIED, f"audio matches “{neg_cand}” (P(不满意)={p_neg:.2f})")
    if c_neg >= CLASSIFIER_NEGATIVE_MIN:
        return result(DISSATISFIED, f"classifier: P(不满意)={c_neg:.2f} for “{normalized}”")
    # 2. A request for a human: not dangerous when wrong, so a looser score floor.
    p_transfer = post.get(TRANSFER, 0.0)
    tr_cand, tr_score = best_of({TRANSFER})
    if p_transfer >= TRANSFER_MIN_POSTERIOR and tr_score >= TRANSFER_MIN_SCORE:
        return result(TRANSFER, f"audio matches “{tr_cand}” (P={p_transfer:.2f})")
    if clf.get(TRANSFER, 0.0) >= CLASSIFIER_TRANSFER_MIN:
        return result(TRANSFER, f"classifier: P(转人工)={clf[TRANSFER]:.2f} for “{normalized}”")
    # 3. Positive only with strong evidence, speech, and no doubt about negation anywhere.
    if ns is not None and ns >= NO_SPEECH_PROB:
        return result(UNRECOGNIZED, f"whisper hears no speech (P={ns:.2f})")
    if cues.echo:
        return result(UNRECOGNIZED, f"transcript “{text}” is the question, not an answer")
    p_pos = post.get(SATISFIED, 0.0) + post.get(BASICALLY_SATISFIED, 0.0)
    pos_cand, pos_score = best_of(POSITIVE)
    text_positive = (c_pos >= CLASSIFIER_POSITIVE_MIN
                     and c_neg <= CLASSIFIER_POSITIVE_MAX_NEGATIVE)
    audio_positive = (pos_cand is not None and pos_score >= POSITIVE_MIN_SCORE
                      and p_pos >= POSITIVE_MIN_POSTERIOR and p_neg <= POSITIVE_MAX_NEGATIVE)
    if text_positive or audio_positive:
        if cues.doubt:
            return result(UNRECOGNIZED, f"a negation (“{cues.doubt}”) in “{text}” the rules "
                          "cannot resolve: never recorded as satisfied")
        if scored and p_neg > AUDIO_VETO_NEGATIVE and neg_score >= NEGATIVE_MIN_SCORE:
            return result(UNRECOGNIZED, f"transcript positive but the audio leans to "
                          f"“{neg_cand}” (P(不满意)={p_neg:.2f})")
        if not scored and not re.search(r"满意", normalized):
            return result(UNRECOGNIZED, "no audio scores; a positive answer must say 满意")
        return result(*_positive_reading(cues, clf, post, text_positive, pos_cand, candidates))
    if clf.get(LUKEWARM, 0.0) >= CLASSIFIER_LUKEWARM_MIN or (
            cues.lukewarm and max(clf, key=lambda i: clf[i], default=None) == LUKEWARM):
        return result(LUKEWARM, f"lukewarm answer “{normalized}” (P(一般)="
                      f"{clf.get(LUKEWARM, 0.0):.2f}): ask whether 基本满意")
    if pos_cand is not None and pos_score < POSITIVE_MIN_SCORE and not text_positive:
        return result(UNRECOGNIZED, f"nothing sure: best answer “{pos_cand}” too unlikely "
                      f"({pos_score:.1f} nats), classifier P(positive)={c_pos:.2f}")
    return result(UNRECOGNIZED, f"ambiguous: audio P(positive)={p_pos:.2f}, P(不满意)="
                  f"{p_neg:.3f}; classifier P(positive)={c_pos:.2f}")


def _positive_reading(cues: Cues, clf: Mapping[str, float], post: Mapping[str, float],
                      text_positive: bool, pos_cand: str | None,
                      candidates: Mapping[str, str]) -> tuple[str, str]:
    """满意 or 基本满意 for an answer already known to be positive: the weaker reading
    whenever anything points to it (satisfaction figures must not be inflated)."""
    if cues.basic:
        return BASICALLY_SATISFIED, f"positive with “{cues.basic}”: 基本满意"
    if cues.concession:
        return BASICALLY_SATISFIED, f"positive with a reservation (“{cues.concession}”): 基本满意"
    if text_positive and clf.get(BASICALLY_SATISFIED, 0.0) > clf.get(SATISFIED, 0.0):
        return BASICALLY_SATISFIED, (f"classifier: P(基本满意)={clf[BASICALLY_SATISFIED]:.2f} "
                                     f"> P(满意)={clf.get(SATISFIED, 0.0):.2f}")
    if post.get(BASICALLY_SATISFIED, 0.0) >= WEAKER_READING_MIN:
        # 满意 and 基本满意 nearly tied in the audio (codec-damaged "基本").
        return BASICALLY_SATISFIED, (f"满意/基本满意 close (P(基本满意)="
                                     f"{post[BASICALLY_SATISFIED]:.2f}): the weaker reading")
    if not text_positive and pos_cand is not None:
        intent = candidates[pos_cand]
        return intent, f"audio matches “{pos_cand}” (P(positive)={sum_positive(post):.2f})"
    return SATISFIED, (f"classifier: P(positive)={sum_positive(clf):.2f}, "
                       f"audio P(positive)={sum_positive(post):.2f}")


def sum_positive(post: Mapping[str, float]) -> float:
    return post.get(SATISFIED, 0.0) + post.get(BASICALLY_SATISFIED, 0.0)


def classify_answer(
    recognizer: WhisperRecognizer,
    audio: np.ndarray | str | os.PathLike[str],
    *,
    sample_rate: int = 16000,
) -> tuple[IntentResult, Transcription]:
    """Transcribe ``audio`` with candidate scoring and classify it."""
    transcription = _transcribe_scored(recognizer, audio, ANSWER_CANDIDATES, sample_rate,
                                       score_if=needs_audio_scores)
    return classify_scored(transcription), transcription


def needs_audio_scores(transcript: str) -> bool:
    """False when classify_scored decides on the transcript before any audio score is read
    (a negation or a request for a person in it): the answer's scoring is then skipped."""
    return _cue_intent(read_cues(normalize_transcript(transcript))) is None


def _transcribe_scored(recognizer: WhisperRecognizer,
                       audio: np.ndarray | str | os.PathLike[str],
                       candidates: Mapping[str, str], sample_rate: int,
                       score_if: Callable[[str], bool] | None = None) -> Transcription:
    """Transcription with ``candidates`` scored, or without scores if scoring is unavailable."""
    from adapters.asr.whisper import ScoringUnavailableError

    try:
        return recognizer.transcribe(audio, sample_rate=sample_rate,
                                     candidates=tuple(candidates), score_if=score_if)
    except ScoringUnavailableError:
        return recognizer.transcribe(audio, sample_rate=sample_rate)


# --------------------------------------------------------------------------- confirmation

# The reply to "那您是基本满意吗？", scored against the audio like the answers: a 不 that the
# transcript lost ("不是" heard as "是") shows as weight on the "no" candidates.
YES: Final = "yes"
NO: Final = "no"
CONFIRM_CANDIDATES: Final[Mapping[str, str]] = {
    "是": YES, "是的": YES, "对": YES, "对的": YES, "基本满意": YES,
    "不是": NO, "不对": NO, "不满意": NO,
}
CONFIRM_MIN_YES = 0.8  # audio P(yes) among the candidates
_YES_REPLY = re.compile(r"(嗯|是|对|没错|可以|行|算是|算|基本满意|基本上|差不多|好)+(的|吧|啊|呀)?")
_NO_REPLY = re.compile(r"不是|不对|不算|没有|谈不上|算不上|不")


def classify_confirmation(transcription: Transcription) -> IntentResult:
    """基本满意 for a clear yes to "那您是基本满意吗？"; an answer with its own intent (不满意,
    转人工, 满意) keeps it; a no or anything unclear is 未识别 (the robot asks the simple
    question). A yes needs the audio to agree: a dropped 不 must not become 基本满意."""
    from dataclasses import replace

    base = classify_scored(replace(transcription, scores={}))  # the cues and the classifier
    cues = read_cues(base.normalized)
    if transcription.skipped or cues.negative or cues.handoff:
        return base
    post = intent_posteriors(transcription.scores, CONFIRM_CANDIDATES)
    reply = base.normalized
    if _NO_REPLY.search(POSITIVE_REPLY_IDIOMS.sub("", reply)):
        return replace(base, intent=UNRECOGNIZED, reason=f"“{reply}” is no yes: ask again")
    if _YES_REPLY.fullmatch(reply):
        if transcription.scores and post.get(YES, 0.0) < CONFIRM_MIN_YES:
            return replace(base, intent=UNRECOGNIZED, reason=f"“{reply}” but the audio is "
                           f"unsure (P(yes)={post.get(YES, 0.0):.2f})")
        return replace(base, intent=BASICALLY_SATISFIED,
                       reason=f"confirmed 基本满意 (“{reply}”, P(yes)={post.get(YES, 0.0):.2f})")
    if base.intent in (*POSITIVE, DISSATISFIED, TRANSFER):
        return base
    return replace(base, intent=UNRECOGNIZED, reason=f"“{reply}” answers neither yes nor no")


POSITIVE_REPLY_IDIOMS: Final = re.compile(r"不错|没问题|没错")


def confirm_answer(
    recognizer: WhisperRecognizer,
    audio: np.ndarray | str | os.PathLike[str],
    *,
    sample_rate: int = 16000,
) -> tuple[IntentResult, Transcription]:
    """Transcribe the reply to the confirmation, score the yes/no candidates, classify."""
    transcription = _transcribe_scored(recognizer, audio, CONFIRM_CANDIDATES, sample_rate)
    return classify_confirmation(transcription), transcription


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
    text = normalize(transcript).replace("，", "")
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
