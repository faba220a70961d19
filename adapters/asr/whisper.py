"""Speech recognition with whisper.cpp (through pywhispercpp) for the callback robot.

``WhisperRecognizer.transcribe`` turns a short answer (float32 16 kHz mono array or a WAV
file) into text. With ``candidates`` it also scores a closed set of expected answers against
the same audio: whisper's decoder is run teacher-forced on each candidate and the summed token
log-probabilities are returned. That reuses the encoder output that the transcription already
computed, so scoring costs only a few decoder steps.

pywhispercpp's own bindings of ``whisper_decode``/``whisper_get_logits`` cannot pass token
arrays or return more than one logit, so scoring calls those two functions (and
``whisper_tokenize``) through ctypes on the very library and context pywhispercpp loaded.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
DEFAULT_MODEL_PATH = Path("var/models/ggml-base.bin")  # relative to the working directory
_REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_ENV = "REXIAN_WHISPER_MODEL"
# whisper.cpp returns no segment for input shorter than ~1 s: pad short answers with silence.
MIN_SECONDS = 1.5
# Answers are a few words; longer input is not an answer to a yes/no style question.
MAX_SECONDS = 30.0
# The robot's question as the preceding context. Measured on the train split of the answer
# corpus (tests/fixtures/audio_corpus): the old prompt listing the answers ("满意，基本满意，
# 不满意，转人工。") made whisper write those words for answers it did not understand (你说什么
# → "满意，", 很好很好 → "转人工。转人工。…") and loop over the list; no prompt at all writes
# 满意 as 买意 / 買一 and loops on silence. The question gives the domain's words without
# offering any answer; an echo of it is recognised as the question (intent 未识别).
DEFAULT_PROMPT = "您对办理结果是否满意？"
# Candidates this many nats below the best one have posterior weight < e^-10: stop decoding them.
PRUNE_MARGIN = 10.0
AUDIO_CTX_MAX = 1500  # encoder positions in Whisper's 30 s window (20 ms each)
FLASH_ATTN_SAFE_CTX = frozenset({512, AUDIO_CTX_MAX})  # see WhisperRecognizer.__init__
# 256 frames = 5.12 s: a short callback answer fits, and the encoder costs a third of 512's:
# real-time factor ~5 instead of ~3 on 2 threads. Longer input gets the smallest window that
# holds all of it (512 = 10.24 s, then the full 1500): nothing is cut off.
DEFAULT_AUDIO_CTX = 256
AUDIO_CTX_STEPS = (256, 512, AUDIO_CTX_MAX)
# Output cap per utterance: enough tokens for everything said (Mandarin runs ~4-5 characters
# a second, ~1.3 tokens a character), so the last clause ("……但是问题还在") is never cut, yet
# a decoder that loops on silence stops soon. Tokens = base + per second of audio, capped.
TOKENS_BASE = 12
TOKENS_PER_SECOND = 8.0
MAX_TOKENS_CAP = 96
TEMPERATURE_INC = 0.4
# Silence gate: whisper hallucinates text on silence ("你不认识吗?") and spends a full encoder
# pass on it. Frames 12 dB over the clip's noise floor and over -45 dBFS count as speech;
# under SPEECH_MIN_SECONDS of them, whisper is skipped. (webrtcvad was tried: it takes
# stationary line hiss for speech.)
SPEECH_MIN_SECONDS = 0.15
_FRAME = 480  # 30 ms
_ABS_FLOOR = 10 ** (-45 / 20)
_OVER_FLOOR = 10 ** (12 / 20)


class AudioError(ValueError):
    """The audio is malformed or in a format we do not accept; the message names the problem."""


class ModelNotFoundError(FileNotFoundError):
    """The ggml model file is missing."""


class ScoringUnavailableError(RuntimeError):
    """Candidate scoring could not attach to whisper.cpp's decoder."""


# --------------------------------------------------------------------------- audio input


def _resample(audio: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling: windowed-sinc low-pass below both Nyquists, then interpolate."""
    if src_rate == dst_rate:
        return audio
    if src_rate > dst_rate:
        cutoff = 0.45 * dst_rate / src_rate  # cycles per input sample, under the new Nyquist
        half = 32
        n = np.arange(-half, half + 1)
        taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(2 * half + 1)
        audio = np.convolve(audio, taps / taps.sum(), mode="same")
    duration = audio.size / src_rate
    n_out = max(1, int(round(duration * dst_rate)))
    src_t = np.arange(audio.size) / src_rate
    dst_t = np.arange(n_out) / dst_rate
    return np.interp(dst_t, src_t, audio).astype(np.float32)


def read_wav(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a PCM WAV file as float32 16 kHz mono (other rates/channel counts are converted)."""
    p = Path(path)
    if not p.is_file():
        raise AudioError(f"audio file not found: {p}")
    try:
        with wave.open(str(p), "rb") as wf:
            channels, width, rate = wf.getnchannels(), wf.getsampwidth(), wf.getframerate()
            raw = wf.readframes(wf.getnframes())
    except (wave.Error, EOFError, RuntimeError, OSError) as exc:
        # The wave module raises RuntimeError on chunk sizes that point past the file.
        raise AudioError(f"{p}: not a readable PCM WAV file ({exc!r})") from exc
    if channels < 1 or rate < 4000 or rate > 192000:
        raise AudioError(f"{p}: implausible WAV header ({channels} channels, {rate} Hz)")
    if width == 1:  # 8-bit WAV is unsigned
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw[: len(raw) // 2 * 2], "<i2").astype(np.float32) / 32768.0
    elif width == 4:
        samples = np.frombuffer(raw[: len(raw) // 4 * 4], "<i4").astype(np.float32) / 2**31
    else:
        raise AudioError(f"{p}: unsupported sample width of {width * 8} bits")
    frames = samples.size // channels
    if frames == 0:
        raise AudioError(f"{p}: WAV file contains no audio frames")
    samples = samples[: frames * channels].reshape(frames, channels).mean(axis=1)
    return _resample(samples, rate, SAMPLE_RATE)


def to_mono_16k(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Validate an in-memory signal and return it as contiguous float32 16 kHz mono."""
    if not isinstance(audio, np.ndarray):
        raise AudioError(f"audio must be a numpy array or a WAV path, got {type(audio).__name__}")
    if audio.dtype == np.int16:
        audio = audio.astype(np.float32) / 32768.0
    elif audio.dtype not in (np.float32, np.float64):
        raise AudioError(f"audio array must be float32 (or int16), got {audio.dtype}")
    if audio.ndim == 2:
        # (frames, channels) as soundfile returns it; average the channels.
        if audio.shape[1] > 8:
            raise AudioError(f"audio array shape {audio.shape} is not (frames, channels)")
        audio = audio.mean(axis=1)
    elif audio.ndim != 1:
        raise AudioError(f"audio array must be 1-D mono, got shape {audio.shape}")
    if audio.size == 0:
        raise AudioError("audio is empty")
    if not np.all(np.isfinite(audio)):
        raise AudioError("audio contains NaN or infinite samples")
    peak = float(np.abs(audio).max())
    if peak > 1.5:
        raise AudioError(f"float audio must be scaled to [-1, 1], peak is {peak:.1f}")
    if not 4000 <= sample_rate <= 192000:
        raise AudioError(f"implausible sample rate {sample_rate} Hz")
    audio = _resample(audio.astype(np.float32), sample_rate, SAMPLE_RATE)
    return np.ascontiguousarray(audio, dtype=np.float32)


def pad_audio(audio: np.ndarray, min_seconds: float = MIN_SECONDS) -> np.ndarray:
    """Append silence so that the signal lasts at least ``min_seconds``.

    Also what makes candidate scoring sound: whisper_full returns without encoding anything
    for input under 1 s, which would leave the previous utterance in the decoder's cache.
    """
    missing = int(math.ceil(min_seconds * SAMPLE_RATE)) - audio.size
    if missing <= 0:
        return audio
    return np.concatenate([audio, np.zeros(missing, dtype=np.float32)])


def speech_seconds(audio: np.ndarray) -> float:
    """Seconds of 30 ms frames loud enough to be speech (see SPEECH_MIN_SECONDS)."""
    n = audio.size // _FRAME
    if n == 0:
        return 0.0
    frames = audio[: n * _FRAME].reshape(n, _FRAME).astype(np.float64)
    rms = np.sqrt((frames**2).mean(axis=1))
    threshold = max(_ABS_FLOOR, float(np.percentile(rms, 10)) * _OVER_FLOOR)
    return int((rms > threshold).sum()) * _FRAME / SAMPLE_RATE


def load_audio(
    source: np.ndarray | str | os.PathLike[str], sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Array or WAV path -> validated float32 16 kHz mono (not yet padded)."""
    if isinstance(source, np.ndarray):
        audio = to_mono_16k(source, sample_rate)
    elif isinstance(source, str | os.PathLike):
        audio = to_mono_16k(read_wav(source))
    else:
        raise AudioError(f"audio must be a numpy array or a WAV path, got {type(source).__name__}")
    if audio.size / SAMPLE_RATE > MAX_SECONDS:
        raise AudioError(
            f"audio lasts {audio.size / SAMPLE_RATE:.1f} s, longer than {MAX_SECONDS:.0f} s"
        )
    return audio


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Transcription:
    """Transcript of one utterance, with timing and (optionally) candidate scores."""

    text: str
    audio_seconds: float  # length of the caller's audio, before padding
    padded_seconds: float  # what whisper.cpp was given
    asr_seconds: float  # wall time of whisper_full (mel, encoder, decoder)
    scoring_seconds: float = 0.0  # wall time of the candidate scoring
    total_seconds: float = 0.0  # everything, including loading and validating the audio
    no_speech_prob: float | None = None  # whisper's P(<|nospeech|>) for this audio
    # candidate text -> summed log-probability of its tokens and end-of-text, no prompt.
    scores: dict[str, float] = field(default_factory=dict)
    # candidate text -> number of tokens scored (incl. end-of-text), to normalise if wanted.
    score_tokens: dict[str, int] = field(default_factory=dict)
    # candidate -> worst step: nats between the most likely token and the candidate's token.
    score_gaps: dict[str, float] = field(default_factory=dict)
    decoder_calls: int = 0  # teacher-forced decoder steps spent on scoring
    speech_seconds: float | None = None  # loud-enough audio found by the silence gate
    skipped: bool = False  # silence gate: whisper not run, no_speech_prob set to 1.0

    @property
    def rtf(self) -> float:
        """Real-time factor: seconds of audio handled per second of processing."""
        return self.audio_seconds / self.total_seconds if self.total_seconds > 0 else math.inf


# --------------------------------------------------------------------------- scoring


def _pybind_value_pointer(obj: object) -> int:
    """Address of the C++ value held by a pybind11 instance (simple layout).

    pybind11's ``instance`` is ``PyObject_HEAD`` followed by ``simple_value_holder[0]``, the
    pointer to the wrapped C++ object; pywhispercpp wraps ``whisper_context *`` in a struct
    whose first member is that pointer. Validated by the caller before any use.
    """
    if not hasattr(type(obj), "_pybind11_conduit_v1_"):
        raise ScoringUnavailableError(f"{type(obj).__name__} is not a pybind11 object")
    head = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
    holder = ctypes.c_void_p.from_address(id(obj) + head).value
    if not holder or holder % ctypes.alignment(ctypes.c_void_p):
        raise ScoringUnavailableError("unexpected pybind11 instance layout")
    ctx = ctypes.c_void_p.from_address(holder).value
    if not ctx or ctx % ctypes.alignment(ctypes.c_void_p):
        raise ScoringUnavailableError("unexpected whisper_context wrapper layout")
    return int(ctx)


class _DecoderScorer:
    """Teacher-forced scoring of candidate texts on the context's current encoder output."""

    def __init__(self, pw: Any, py_ctx: object, n_threads: int, language: str) -> None:
        libs = Path(pw.__file__).resolve().parent / "pywhispercpp.libs"
        found = sorted(libs.glob("libwhisper*.so*"))
        if not found:
            raise ScoringUnavailableError(f"no libwhisper shared library in {libs}")
        lib = ctypes.CDLL(str(found[0]))  # already loaded by _pywhispercpp: same handle
        c_ctx = ctypes.c_void_p
        lib.whisper_decode.argtypes = [c_ctx, ctypes.POINTER(ctypes.c_int32), ctypes.c_int,
                                       ctypes.c_int, ctypes.c_int]  # fmt: skip
        lib.whisper_decode.restype = ctypes.c_int
        lib.whisper_get_logits.argtypes = [c_ctx]
        lib.whisper_get_logits.restype = ctypes.POINTER(ctypes.c_float)
        lib.whisper_tokenize.argtypes = [c_ctx, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int32),
                                         ctypes.c_int]  # fmt: skip
        lib.whisper_tokenize.restype = ctypes.c_int
        for name in ("whisper_model_n_vocab", "whisper_model_n_text_ctx",
                     "whisper_model_n_audio_state", "whisper_model_n_mels",
                     "whisper_token_nosp"):  # fmt: skip
            getattr(lib, name).argtypes = [c_ctx]
            getattr(lib, name).restype = ctypes.c_int
        ptr = _pybind_value_pointer(py_ctx)
        # Both views of the context must agree before we decode through the raw pointer.
        for name in ("whisper_model_n_vocab", "whisper_model_n_text_ctx",
                     "whisper_model_n_audio_state", "whisper_model_n_mels"):  # fmt: skip
            if getattr(lib, name)(ptr) != getattr(pw, name)(py_ctx):
                raise ScoringUnavailableError(f"context pointer check failed on {name}")
        self._lib = lib
        self._ctx = ptr
        self._n_threads = n_threads
        self.n_vocab = int(lib.whisper_model_n_vocab(ptr))
        self.sot = int(pw.whisper_token_sot(py_ctx))
        self.eot = int(pw.whisper_token_eot(py_ctx))
        self.nospeech = int(lib.whisper_token_nosp(ptr))  # not bound by pywhispercpp
        lang_id = int(pw.whisper_lang_id(language))
        if lang_id < 0:
            raise ScoringUnavailableError(f"unknown language {language!r}")
        self.task_prefix = [
            int(pw.whisper_token_lang(py_ctx, lang_id)),
            int(pw.whisper_token_transcribe(py_ctx)),
            int(pw.whisper_token_not(py_ctx)),
        ]
        self._token_cache: dict[str, list[int]] = {}

    def tokenize(self, text: str) -> list[int]:
        cached = self._token_cache.get(text)
        if cached is not None:
            return cached
        buf = (ctypes.c_int32 * 128)()
        n = self._lib.whisper_tokenize(self._ctx, text.encode("utf-8"), buf, 128)
        if n <= 0:
            raise ValueError(f"cannot tokenize candidate {text!r}")
        tokens = [int(t) for t in buf[:n]]
        self._token_cache[text] = tokens
        return tokens

    def _decode(self, tokens: Sequence[int], n_past: int) -> np.ndarray:
        """Feed tokens after ``n_past`` cached ones; return log-probs of the next token."""
        arr = (ctypes.c_int32 * len(tokens))(*tokens)
        if self._lib.whisper_decode(self._ctx, arr, len(tokens), n_past, self._n_threads) != 0:
            raise RuntimeError("whisper_decode failed")
        # Only the last row of the logits buffer is written (stride: the model's n_vocab).
        start = (len(tokens) - 1) * self.n_vocab
        ptr = self._lib.whisper_get_logits(self._ctx)
        logits = np.ctypeslib.as_array(ptr, shape=(start + self.n_vocab,))[start:]
        logits = logits.astype(np.float64)
        top = logits.max()
        return logits - top - math.log(float(np.exp(logits - top).sum()))

    def score(
        self, candidates: Sequence[str], prune_margin: float = PRUNE_MARGIN
    ) -> tuple[float, dict[str, float], dict[str, int], dict[str, float], int]:
        """Score candidates against the audio encoded by the last whisper_full call.

        Returns (no-speech probability, candidate -> log P(tokens + end-of-text) without any
        prompt, candidate -> tokens scored, candidate -> worst step gap, decoder calls). Must
        run right after whisper_full on the same context, whose cross-attention cache still
        holds the encoded audio (whisper_full encodes only input of 1 s or more: see pad_audio).

        Candidates are walked as a token trie, depth first and most likely branch first, so
        shared prefixes (不满意 / 不太满意) are decoded once. A branch whose partial score is
        already ``prune_margin`` nats below the best complete candidate is not decoded further
        (log-probabilities only decrease, so it cannot catch up); its candidates get that
        partial score, an upper bound, which errs towards "the answer is ambiguous".
        """
        # P(<|nospeech|>) is read where whisper reads it: the distribution right after SOT.
        after_sot = self._decode([self.sot], 0)
        no_speech = float(math.exp(after_sot[self.nospeech]))
        root = self._decode(self.task_prefix, 1)
        base = 1 + len(self.task_prefix)
        trie: dict[tuple[int, ...], list[str]] = {}
        for cand in dict.fromkeys(candidates):
            trie.setdefault(tuple(self.tokenize(cand)), []).append(cand)
        scores: dict[str, float] = {}
        counts: dict[str, int] = {}
        gaps: dict[str, float] = {}
        best = -math.inf
        calls = 2

        def below(prefix: tuple[int, ...]) -> list[tuple[int, ...]]:
            return [seq for seq in trie if seq[: len(prefix)] == prefix]

        def visit(prefix: tuple[int, ...], dist: np.ndarray, partial: float, gap: float) -> None:
            nonlocal best, calls
            top = float(dist.max())
            if prefix in trie:
                total = partial + float(dist[self.eot])
                best = max(best, total)
                for cand in trie[prefix]:
                    scores[cand] = total
                    counts[cand] = len(prefix) + 1
                    gaps[cand] = max(gap, top - float(dist[self.eot]))
            children = {seq[len(prefix)] for seq in below(prefix) if len(seq) > len(prefix)}
            for tok in sorted(children, key=lambda t: -float(dist[t])):
                child = (*prefix, tok)
                child_partial = partial + float(dist[tok])
                if child_partial < best - prune_margin:
                    for seq in below(child):
                        for cand in trie[seq]:
                            scores[cand] = child_partial
                            counts[cand] = len(child)
                            gaps[cand] = math.inf
                    continue
                # The cache holds at least `prefix`; whisper_decode drops anything after n_past.
                child_dist = self._decode([tok], base + len(prefix))
                calls += 1
                visit(child, child_dist, child_partial, max(gap, top - float(dist[tok])))

        visit((), root, 0.0, 0.0)
        return no_speech, scores, counts, gaps, calls


# --------------------------------------------------------------------------- recognizer


def resolve_model_path(model_path: str | os.PathLike[str] | None = None) -> Path:
    """Explicit path, else $REXIAN_WHISPER_MODEL, else var/models/ggml-base.bin.

    The default is looked up in the working directory, then in the source checkout.
    """
    path = Path(model_path or os.environ.get(MODEL_ENV) or DEFAULT_MODEL_PATH)
    if path == DEFAULT_MODEL_PATH and not path.is_file():
        path = _REPO_ROOT / DEFAULT_MODEL_PATH
    if not path.is_file():
        raise ModelNotFoundError(
            f"whisper model not found at {path}: run `make model` "
            f"(python -m tools.convert_whisper --out {path}) or set {MODEL_ENV}"
        )
    return path


class WhisperRecognizer:
    """Short-utterance Mandarin recognizer on whisper.cpp (greedy, 2 threads, capped output).

    Not thread-safe in whisper.cpp itself, so calls are serialised with a lock; use one
    recognizer per worker process for parallelism.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        n_threads: int = 2,
        language: str = "zh",
        audio_ctx: int = DEFAULT_AUDIO_CTX,
        max_tokens: int = MAX_TOKENS_CAP,
        prompt: str | None = DEFAULT_PROMPT,
        score_threads: int = 1,
        skip_silence: bool = True,
        flash_attn: bool | None = None,
    ) -> None:
        import _pywhispercpp as pw
        from pywhispercpp.model import ContextParams, Model

        self.model_path = resolve_model_path(model_path)
        self.audio_ctx = audio_ctx
        self.language = language
        self.n_threads = n_threads
        # One-token decoder steps are too small to split: with 2 threads the OpenMP barriers
        # dominate, and on a busy machine they made scoring 5-10x slower than one thread.
        self.score_threads = score_threads
        self.skip_silence = skip_silence
        self.max_tokens = max_tokens
        self.params: dict[str, Any] = whisper_params(
            n_threads=n_threads,
            language=language,
            audio_ctx=audio_ctx,
            max_tokens=max_tokens,
            prompt=prompt,
        )
        # whisper.cpp 1.8's flash attention carried state from one call into the next at
        # audio_ctx=256 (same audio, different text after another utterance); 512 and the full
        # 1500 were reproducible. Other sizes run without it (~10% slower encoder).
        if flash_attn is None:
            flash_attn = audio_ctx in FLASH_ATTN_SAFE_CTX
        self.context_params: ContextParams = {"flash_attn": flash_attn}
        self._pw = pw
        # Any: we also reach the private context handle, which the stubs do not declare.
        self._model: Any = Model(
            str(self.model_path),
            redirect_whispercpp_logs_to=None,
            context_params=self.context_params,
            **self.params,
        )
        self._lock = threading.Lock()
        self._scorer: _DecoderScorer | None = None
        self._scorer_error: str | None = None

    @property
    def model(self) -> Any:
        """The underlying ``pywhispercpp.model.Model``."""
        return self._model

    def _get_scorer(self) -> _DecoderScorer:
        if self._scorer is None:
            if self._scorer_error is not None:
                raise ScoringUnavailableError(self._scorer_error)
            try:
                self._scorer = _DecoderScorer(
                    self._pw, self._model._ctx, self.score_threads, self.language
                )
            except (ScoringUnavailableError, OSError, AttributeError) as exc:
                self._scorer_error = f"candidate scoring unavailable: {exc}"
                raise ScoringUnavailableError(self._scorer_error) from exc
        return self._scorer

    def tokenize(self, text: str) -> list[int]:
        """Whisper token ids of ``text`` (used to explain scores)."""
        with self._lock:
            return self._get_scorer().tokenize(text)

    def transcribe(
        self,
        audio: np.ndarray | str | os.PathLike[str],
        *,
        sample_rate: int = SAMPLE_RATE,
        candidates: Sequence[str] = (),
        score_if: Callable[[str], bool] | None = None,
    ) -> Transcription:
        """Transcribe one utterance; with ``candidates``, also score each against the audio,
        unless ``score_if`` says of the transcript that its scores would not be used (the
        scoring costs about as much as the transcription).

        Raises AudioError for malformed audio, ScoringUnavailableError if candidates were
        asked for but the decoder cannot be reached.
        """
        started = time.perf_counter()
        pcm = load_audio(audio, sample_rate)
        speech = speech_seconds(pcm)
        if self.skip_silence and speech < SPEECH_MIN_SECONDS:
            return Transcription(
                text="",
                audio_seconds=pcm.size / SAMPLE_RATE,
                padded_seconds=0.0,
                asr_seconds=0.0,
                total_seconds=time.perf_counter() - started,
                no_speech_prob=1.0,
                speech_seconds=speech,
                skipped=True,
            )
        padded = pad_audio(pcm)
        audio_ctx = encoder_window(padded.size, self.audio_ctx)
        max_tokens = token_budget(pcm.size / SAMPLE_RATE, self.max_tokens)
        with self._lock:
            scorer = self._get_scorer() if candidates else None
            t0 = time.perf_counter()
            # Both are set on every call: pywhispercpp keeps a call's parameters for the next.
            segments = self._model.transcribe(padded, audio_ctx=audio_ctx,
                                              max_tokens=max_tokens)
            t1 = time.perf_counter()
            # A multi-byte character split across tokens decodes to U+FFFD: drop the debris.
            text = "".join(seg.text for seg in segments).replace("\ufffd", "").strip()
            no_speech: float | None = None
            scores: dict[str, float] = {}
            counts: dict[str, int] = {}
            gaps: dict[str, float] = {}
            calls = 0
            if scorer is not None and (score_if is None or score_if(text)):
                no_speech, scores, counts, gaps, calls = scorer.score(candidates)
            t2 = time.perf_counter()
        return Transcription(
            text=text,
            audio_seconds=pcm.size / SAMPLE_RATE,
            padded_seconds=padded.size / SAMPLE_RATE,
            asr_seconds=t1 - t0,
            scoring_seconds=t2 - t1,
            total_seconds=time.perf_counter() - started,
            no_speech_prob=no_speech,
            scores=scores,
            score_tokens=counts,
            score_gaps=gaps,
            decoder_calls=calls,
            speech_seconds=speech,
        )


    def detect_language(self, audio: np.ndarray | str | os.PathLike[str], *,
                 sample_rate: int = SAMPLE_RATE) -> tuple[str, float]:
        """The spoken language whisper detects (its code, e.g. zh, en, ja) and its
        probability: one more encoder pass, so callers ask only when a transcript is in
        doubt (the inbound robot hands a caller it cannot serve in Mandarin to a person)."""
        pcm = pad_audio(load_audio(audio, sample_rate))
        with self._lock:
            (code, probability), _all = self._model.auto_detect_language(pcm)
        return str(code), float(probability)


def encoder_window(samples: int, smallest: int = DEFAULT_AUDIO_CTX) -> int:
    """The smallest encoder window (20 ms frames) from ``smallest`` up that holds ``samples``
    of 16 kHz audio: audio_ctx limits the encoder to its first audio_ctx * 20 ms, and what lies
    beyond would be skipped (whisper.cpp moves on to the next 30 s window)."""
    for ctx in (smallest, *(c for c in AUDIO_CTX_STEPS if c > smallest)):
        if samples <= ctx * 320:
            return ctx
    return AUDIO_CTX_MAX


def token_budget(seconds: float, cap: int = MAX_TOKENS_CAP) -> int:
    """Decoder tokens allowed for ``seconds`` of audio (see TOKENS_PER_SECOND)."""
    return max(1, min(cap, TOKENS_BASE + math.ceil(TOKENS_PER_SECOND * seconds)))


def whisper_params(
    *,
    n_threads: int = 2,
    language: str = "zh",
    audio_ctx: int = 512,
    max_tokens: int = MAX_TOKENS_CAP,
    prompt: str | None = DEFAULT_PROMPT,
) -> dict[str, Any]:
    """pywhispercpp parameters used by WhisperRecognizer (shared with the benchmark)."""
    return {
        "n_threads": n_threads,
        "language": language,
        "translate": False,
        "no_context": True,
        "no_timestamps": True,
        "single_segment": True,
        "max_tokens": max_tokens,  # always capped: whisper can loop until the limit
        "audio_ctx": audio_ctx,  # 512 frames = 10.24 s: enough for an answer, 3x faster
        "initial_prompt": prompt or "",
        "temperature": 0.0,
        # Fallback re-decoding when the greedy text is repetitive (entropy of its tokens under
        # entropy_thold) or unlikely (average log-probability under logprob_thold): at most two
        # retries (0.4, 0.8); whisper.cpp seeds its sampler per state, so results repeat.
        "temperature_inc": TEMPERATURE_INC,
        "entropy_thold": 2.4,
        "logprob_thold": -1.0,
        "suppress_blank": True,
        "print_progress": False,
        "print_realtime": False,
        "print_timestamps": False,
    }
