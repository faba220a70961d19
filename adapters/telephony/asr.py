"""A bounded ASR worker pool in front of the ASR helper's WhisperRecognizer.

whisper.cpp is CPU bound (~0.5 s per short answer with 2 threads) and a recognizer is not
thread-safe, so the robot never runs it on the event loop: every utterance is queued on a
small pool of worker threads, one per core (at most 4), each running whisper with ONE
thread. Measured with 40 concurrent calls on the 2-core machine: whisper's thread pool
spin-waits, and with 2 threads per job next to the calls' media it slowed to ~7 s per answer;
two single-threaded workers did ~2.6 s per answer each, in parallel (bench callcenter). Each
worker owns its recognizers, created lazily:

* ``answer`` — the default answer-list prompt; ``classify_answer`` scores the closed set of
  answers against the audio and combines it with the transcript (negation first);
* ``query`` — a prompt for progress queries (查询工单 + digits). With the answer prompt whisper
  turns "查询工单一二三四五六" into look-alikes of 满意; with this one it writes the digits.
  Only an utterance that was not understood as an answer is transcribed a second time.
  Digit strings are where whisper is weakest (a short 一 after a pause gets lost, more so
  after a codec): ``score`` ranks a closed set of spoken numbers against the audio;
* ``ack`` — a prompt for the acknowledgement of a reminder ("收到");
* ``inbound`` — a caller's question to the inbound robot (adapters/telephony/inbound_robot.py);
* ``announcement`` — what an outbound call hears before the robot speaks: a carrier's
  recorded announcement ("您拨打的号码是空号") or a person's "喂"
  (``adapters.telephony.answering``);
* ``survey`` — a campaign call's reply: a survey answer, 听清楚了/再听一遍, 人工, with the
  question's closed set scored against the audio (``adapters.asr.closed_set``).

whisper.cpp releases the GIL while it runs, so audio pacing on the event loop continues.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from adapters.asr.intent import IntentResult, classify_answer, confirm_answer
from adapters.asr.whisper import Transcription, WhisperRecognizer

QUERY_PROMPT = "查询工单，一二三四五六七八九零。"
ACK_PROMPT = "收到，好的，知道了。"
# The carriers' opening words only: a prompt naming the outcomes (空号, 已停机, ...) makes
# whisper write the first of them into announcements that said another (measured).
ANNOUNCEMENT_PROMPT = "您拨打的电话"
# An inbound caller's question: the knowledge base's domains' words (not the callback's 满意).
INBOUND_PROMPT = "以下是普通话的句子，关于社保、医保、公积金、户口、不动产、入学、公租房的咨询。"
# A campaign call's reply (a survey answer, 听清楚了, 人工): no answer list, which would bend
# every reply towards its first entry; the closed set is scored against the audio instead.
SURVEY_PROMPT = "以下是普通话的回答。"
PROMPTS: dict[str, str | None] = {"query": QUERY_PROMPT, "ack": ACK_PROMPT,
                                  "announcement": ANNOUNCEMENT_PROMPT, "inbound": INBOUND_PROMPT,
                                  "survey": SURVEY_PROMPT}
# Tokens a transcript may take: announcements and questions are whole sentences, the rest
# short answers.
MAX_TOKENS = {"announcement": 48, "inbound": 96}

RecognizerFactory = Callable[[str], WhisperRecognizer]
# What every outbound call needs: who answered (announcement), the answer, a progress query.
# The rest (ack, inbound, survey) load on their first use.
WARM_KINDS = ("announcement", "answer", "query")
MAX_WORKERS = 4
# pywhispercpp silences whisper.cpp's loading logs by swapping sys.stderr (or fd 2) for
# /dev/null and back: two models loading at once in two threads leave stderr pointing at a
# closed /dev/null. Models are therefore created one at a time, process-wide.
_MODEL_INIT_LOCK = threading.Lock()


def default_factory(model_path: str | os.PathLike[str] | None = None,
                    n_threads: int = 2) -> RecognizerFactory:
    def make(kind: str) -> WhisperRecognizer:
        if kind == "answer":
            return WhisperRecognizer(model_path, n_threads=n_threads)
        return WhisperRecognizer(model_path, n_threads=n_threads, prompt=PROMPTS[kind],
                                 max_tokens=MAX_TOKENS.get(kind, 32))

    return make


@dataclass(frozen=True)
class AsrStats:
    jobs: int
    busy_s: float
    queued_max: int


SERVICE_EWMA = 0.2  # weight of the newest job in the recent service time


class AsrPool:
    """Queue utterances on ``workers`` threads; each thread has its own recognizers."""

    def __init__(self, factory: RecognizerFactory | None = None, *, workers: int | None = None,
                 model_path: str | os.PathLike[str] | None = None,
                 n_threads: int = 1) -> None:
        workers = workers or min(os.cpu_count() or 1, MAX_WORKERS)
        if workers < 1:
            raise ValueError("an ASR pool needs at least one worker")
        self._factory = factory or default_factory(model_path, n_threads)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="asr")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._jobs = 0
        self._busy = 0.0
        self._pending = 0
        self._pending_max = 0
        self._service: float | None = None  # recent seconds per job (EWMA), under load
        self.workers = workers

    def _recognizer(self, kind: str) -> WhisperRecognizer:
        cache: dict[str, WhisperRecognizer] = getattr(self._local, "recognizers", None) or {}
        self._local.recognizers = cache
        if kind not in cache:
            with _MODEL_INIT_LOCK:
                cache[kind] = self._factory(kind)
        return cache[kind]

    async def _run(self, fn: Callable[[], Any]) -> Any:
        with self._lock:
            self._pending += 1
            self._pending_max = max(self._pending_max, self._pending)

        def job() -> Any:
            started = time.perf_counter()
            try:
                return fn()
            finally:
                took = time.perf_counter() - started
                with self._lock:
                    self._jobs += 1
                    self._busy += took
                    self._service = took if self._service is None else (
                        SERVICE_EWMA * took + (1 - SERVICE_EWMA) * self._service)

        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, job)
        finally:
            with self._lock:
                self._pending -= 1

    async def warm_up(self, kinds: tuple[str, ...] = WARM_KINDS) -> None:
        """Load the models of every worker before the first call."""
        barrier = threading.Barrier(self.workers)

        def load() -> None:
            for kind in kinds:
                self._recognizer(kind)
            barrier.wait(timeout=120)  # one job per worker thread

        await asyncio.gather(*(asyncio.get_running_loop().run_in_executor(self._executor, load)
                               for _ in range(self.workers)))

    async def classify(self, pcm: np.ndarray) -> tuple[IntentResult, Transcription]:
        audio = _float(pcm)
        result: tuple[IntentResult, Transcription] = await self._run(
            lambda: classify_answer(self._recognizer("answer"), audio))
        return result

    async def confirm(self, pcm: np.ndarray) -> tuple[IntentResult, Transcription]:
        """The reply to "那您是基本满意吗？" (``intent.confirm_answer``)."""
        audio = _float(pcm)
        result: tuple[IntentResult, Transcription] = await self._run(
            lambda: confirm_answer(self._recognizer("answer"), audio))
        return result

    async def transcribe(self, pcm: np.ndarray, kind: str = "query") -> Transcription:
        audio = _float(pcm)
        result: Transcription = await self._run(lambda: self._recognizer(kind).transcribe(audio))
        return result

    async def language(self, pcm: np.ndarray, kind: str = "inbound") -> tuple[str, float]:
        """The language spoken (whisper's detection): (code, probability)."""
        audio = _float(pcm)
        result: tuple[str, float] = await self._run(
            lambda: self._recognizer(kind).detect_language(audio))
        return result

    async def score(self, pcm: np.ndarray, candidates: list[str], kind: str = "query"
                    ) -> Transcription:
        """Transcribe and score ``candidates`` against the audio (log-probabilities)."""
        audio = _float(pcm)
        result: Transcription = await self._run(
            lambda: self._recognizer(kind).transcribe(audio, candidates=tuple(candidates)))
        return result

    @property
    def pending(self) -> int:
        """Utterances queued or being transcribed now."""
        with self._lock:
            return self._pending

    @property
    def service_s(self) -> float | None:
        """Recent seconds of worker time per utterance (None before the first one)."""
        with self._lock:
            return self._service

    def stats(self) -> AsrStats:
        with self._lock:
            return AsrStats(self._jobs, self._busy, self._pending_max)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def _float(pcm: np.ndarray) -> np.ndarray:
    if pcm.dtype == np.int16:
        return pcm.astype(np.float32) / 32768.0
    return pcm.astype(np.float32)
