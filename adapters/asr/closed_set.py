"""A spoken reply classified into a closed answer set (a survey question's answers, a
notification's 听清楚了/再听一遍, a broadcast's 人工), or None: never a guess.

Two kinds of evidence, like the callback classifier (``adapters.asr.intent``):

* the transcript, normalised (``normalize_transcript``: OpenCC, full-width, loops and
  credits removed), searched for each answer and its common phrasings (``PHRASINGS``:
  再说一遍 for 再听一遍, 转人工/人工客服/真人 for 人工, 不是 for 否 …). A phrase inside a longer
  matched phrase does not count (满意 inside 不满意, 是 inside 不是); two answers left is
  doubt. A negation outside the matched phrase ("不太满意" for 满意, "没听清楚了") is doubt;
* the audio: every phrase scored against the audio by whisper (teacher-forced
  log-probabilities), a softmax over them summed per answer (``intent_posteriors``).

The transcript decides when the audio does not clearly say otherwise; the audio decides a
short reply whose transcript names no answer (a garbled 清运不及时) only when it is sure
(posterior and score floors) AND the transcript sounds like the answer (``sound_alike``:
syllables in pinyin): a softmax over a closed set always picks something, and a reply
outside the set (满意 to a yes/no question) must not become the nearest answer. Anything
else is None: the dialogue asks again, then records 未识别.

A question whose answers are the callback's 满意/基本满意/不满意 (or a part of them) is read by
the callback classifier itself (``classify_scored``: negation first, 一般 never recorded as
满意), the robot's tuned intent stack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from adapters.asr.cues import POSITIVE_IDIOMS
from adapters.asr.intent import (
    ANSWER_CANDIDATES,
    classify_scored,
    intent_posteriors,
)
from adapters.asr.normalize import normalize_transcript

if TYPE_CHECKING:
    from adapters.asr.whisper import Transcription

# Answers the callback classifier knows: a question answered only with these uses it.
SATISFACTION: Final = frozenset({"满意", "基本满意", "不满意"})
# Common phrasings of answers, by the answer's label (added when the label is in the set).
PHRASINGS: Final[Mapping[str, tuple[str, ...]]] = {
    "听清楚了": ("听清楚了", "听清了", "听清楚", "清楚了", "听到了", "明白了", "知道了", "收到"),
    "再听一遍": ("再听一遍", "再说一遍", "再来一遍", "再讲一遍", "重复一遍", "再听一次", "没听清",
             "没听清楚", "没听到"),
    "人工": ("人工", "转人工", "人工服务", "人工客服", "真人", "客服", "转接人工"),
    "不需要": ("不需要", "不用", "不用了", "没有了", "不要"),
    "是": ("是", "是的", "对", "对的", "每天都"),
    "否": ("否", "不是", "不对", "没有", "没有每天"),
    "其他": ("其他", "其它", "别的"),
}
NEGATION: Final = re.compile(r"不|没|未|无|别(?!的)")
# The audio decides a reply whose transcript names no answer only when it is this sure, the
# best phrase this likely (nats), and the transcript sounds like that answer (sound_alike).
AUDIO_MIN_POSTERIOR: Final = 0.75
AUDIO_MIN_SCORE: Final = -16.0
SOUND_ALIKE_MIN: Final = 0.5
# A transcript that sounds this much like one answer (and under SOUND_ALIKE_MIN like any
# other) names it, unless the audio vetoes.
SOUNDS_LIKE: Final = 0.75
AUDIO_MAX_NO_SPEECH: Final = 0.8
AUDIO_VETO: Final = 0.85  # the audio this sure of another answer overrules the transcript
AUDIO_ONLY_EXTRA_CHARS: Final = 2  # a transcript longer than the longest phrase + this is no short reply


@dataclass(frozen=True)
class ClosedAnswer:
    answer: str | None  # a label of the set, or None (doubtful / nothing said)
    reason: str
    transcript: str = ""
    posteriors: dict[str, float] = field(default_factory=dict)


def phrasings(answers: Sequence[str]) -> dict[str, str]:
    """phrase -> answer label: each answer itself and its common phrasings; a phrase
    that would name two answers of this set is left out."""
    phrases: dict[str, str] = {}
    for label in answers:
        phrases[label] = label
    for label in answers:
        for phrase in PHRASINGS.get(label, ()):
            if phrase not in phrases:
                phrases[phrase] = label
    return phrases


def uses_callback_classifier(answers: Sequence[str]) -> bool:
    return set(answers) <= SATISFACTION and len(answers) >= 2


def scoring_candidates(answers: Sequence[str]) -> list[str]:
    """The phrases to score against the audio for this set."""
    if uses_callback_classifier(answers):
        return list(ANSWER_CANDIDATES)
    return list(phrasings(answers))


def text_matches(normalized: str, phrases: Mapping[str, str]) -> tuple[set[str], str]:
    """The answers the transcript names (a phrase inside a longer match does not count)
    and the transcript with those matches removed."""
    spans: list[tuple[int, int, str]] = []
    for phrase, label in phrases.items():
        start = normalized.find(phrase)
        while start >= 0:
            spans.append((start, start + len(phrase), label))
            start = normalized.find(phrase, start + 1)
    kept = [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0]
                                        for o in spans)]
    rest = list(normalized)
    for start, end, _ in kept:
        for i in range(start, end):
            rest[i] = "，"
    return {label for _, _, label in kept}, "".join(rest)


def classify_closed(transcription: Transcription, answers: Sequence[str]) -> ClosedAnswer:
    """The reply as one of `answers`, or None with the reason."""
    text = transcription.text
    if uses_callback_classifier(answers):
        return _satisfaction(transcription, answers)
    normalized = normalize_transcript(text)
    phrases = phrasings(answers)
    post = intent_posteriors(transcription.scores, phrases)
    scored = {p: s for p, s in transcription.scores.items() if p in phrases and math.isfinite(s)}

    def result(answer: str | None, reason: str) -> ClosedAnswer:
        return ClosedAnswer(answer, reason, text, post)

    if transcription.skipped or (not normalized and not scored):
        return result(None, "nothing said")
    labels, rest = text_matches(normalized, phrases)
    audio = max(post, key=lambda a: post[a]) if post else None
    if len(labels) > 1:
        return result(None, f"“{normalized}” names several answers: {'、'.join(sorted(labels))}")
    if len(labels) == 1:
        (label,) = labels
        negation = NEGATION.search(POSITIVE_IDIOMS.sub("", rest))
        if negation:
            return result(None, f"“{normalized}” names {label} with a negation "
                          f"(“{negation.group(0)}”) outside it")
        if audio is not None and audio != label and post[audio] >= AUDIO_VETO:
            return result(None, f"transcript says {label}, the audio {audio} "
                          f"(P={post[audio]:.2f})")
        return result(label, f"transcript “{normalized}” says {label}")
    alike = sorted(((max(sound_alike(normalized, p) for p in phrases if phrases[p] == label),
                     label) for label in answers), reverse=True)
    (sound, label), runner_up = alike[0], (alike[1][0] if len(alike) > 1 else 0.0)
    if sound >= SOUNDS_LIKE and runner_up < SOUND_ALIKE_MIN:
        if audio is not None and audio != label and post[audio] >= AUDIO_VETO:
            return result(None, f"“{normalized}” sounds like {label} ({sound:.2f}), the "
                          f"audio says {audio} (P={post[audio]:.2f})")
        return result(label, f"“{normalized}” sounds like {label} ({sound:.2f}; the next "
                      f"answer {runner_up:.2f})")
    no_speech = transcription.no_speech_prob
    if no_speech is not None and no_speech >= AUDIO_MAX_NO_SPEECH:
        return result(None, f"whisper hears no speech (P={no_speech:.2f})")
    longest = max(len(p) for p in phrases)
    if len(normalized) > longest + AUDIO_ONLY_EXTRA_CHARS:
        return result(None, f"“{normalized}” names no answer")
    if audio is None:
        return result(None, f"“{normalized}” names no answer and nothing was scored")
    best_phrase = max((p for p in scored if phrases[p] == audio), key=lambda p: scored[p])
    sound = max(sound_alike(normalized, p) for p in phrases if phrases[p] == audio)
    if (post[audio] >= AUDIO_MIN_POSTERIOR and scored[best_phrase] >= AUDIO_MIN_SCORE
            and sound >= SOUND_ALIKE_MIN):
        return result(audio, f"audio matches {audio} (P={post[audio]:.2f}, "
                      f"{scored[best_phrase]:.1f} nats) and the transcript “{normalized}” "
                      f"sounds like it ({sound:.2f})")
    return result(None, f"audio unsure: {audio} P={post[audio]:.2f}, "
                  f"{scored[best_phrase]:.1f} nats, transcript “{normalized}” sounds "
                  f"{sound:.2f} like it")


# y and w are spelling, not initials: 衣 (yi) and 有 (you) share no sound.
_INITIAL = re.compile(r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcs])?(.*)$")


def _syllables(text: str) -> list[tuple[str, str]]:
    from pypinyin import Style, lazy_pinyin

    found = []
    for syllable in lazy_pinyin(text, style=Style.NORMAL, errors="ignore"):
        match = _INITIAL.match(syllable)
        assert match is not None
        found.append((match.group(1) or "", match.group(2)))
    return found


def _syllable_alike(a: tuple[str, str], b: tuple[str, str]) -> float:
    if a == b:
        return 1.0
    if (a[0] and a[0] == b[0]) or (a[1] and a[1] == b[1]):
        return 0.5
    return 0.0


def sound_alike(transcript: str, phrase: str) -> float:
    """How much of `phrase` the transcript sounds like, 0..1: the best in-order alignment
    of their syllables (pinyin without tones; a syllable with the same initial or final
    counts half), over the phrase's syllables. Whisper mishears a short reply as words
    that sound like it (星夜不及时 for 清运不及时: 0.8); a reply that is another answer
    altogether does not (妈咪 for 不是: 0)."""
    heard, wanted = _syllables(transcript), _syllables(phrase)
    if not heard or not wanted:
        return 0.0
    row = [0.0] * (len(wanted) + 1)
    for h in heard:
        previous = row[:]
        for j, w in enumerate(wanted, 1):
            row[j] = max(previous[j], row[j - 1], previous[j - 1] + _syllable_alike(h, w))
    return row[-1] / len(wanted)


def _satisfaction(transcription: Transcription, answers: Sequence[str]) -> ClosedAnswer:
    found = classify_scored(transcription)
    if found.intent in answers:
        return ClosedAnswer(found.intent, found.reason, transcription.text, found.posteriors)
    return ClosedAnswer(None, f"{found.intent}: {found.reason}", transcription.text,
                        found.posteriors)
