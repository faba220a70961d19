"""Admission control for the dialler: how many calls the media + ASR path can carry.

Measured on the 2-core machine (issue 17): the robot's listening window is a fixed 5 s of
wall time after its question, and the media path (SRTP, RTP and Opus decoding in aiortc,
in the robot and in the gateway) falls behind real time when too many calls speak at
once. 16 calls: audio arrives at 1.0–1.2× real time; 40 calls: ~4×, a 10.5 s question
reaches the citizen 4 s late, the answer misses the window, the re-ask talks over it and
every call ends 未识别. Behind that, whisper (two single-threaded workers, ~2.5 s per
answer while the media runs) is a queue: 40 answers arriving together wait up to ~38 s.

So the dialler admits calls through ``Admission``:

* a concurrency limit, adapted like TCP's window: +1 per healthy call (slow start) until
  the first sign of overload, then +1/limit per healthy call; ×0.7 on overload, at most
  once per generation of calls (calls started before the last cut do not cut again);
* a spacing between call starts matched to the ASR throughput (recent seconds per
  utterance × utterances per call ÷ workers ÷ target utilisation): calls started together
  speak together and answer together, which is what overloads both the media and the
  ASR queue.

A call is healthy when its audio arrived near real time (``stretch_limit``), no answer
came after its window had closed, and no answer waited for an ASR worker longer than
``asr_wait_limit_s``.
The clock is injectable, so the rules are tested on a simulation clock.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.telephony.robot import CallResult

# A burst arriving 1.5× slower than real time stretches a 0.8 s turn gap and a 1 s answer
# by seconds: the listening window may have closed on it.
OVERLOAD_STRETCH = 1.5
POLL_S = 0.05  # how often a call waiting for a place looks again


@dataclass(frozen=True)
class AdmissionSettings:
    initial: int = 8  # first limit: 16 calls measured healthy here at load 0.3
    minimum: int = 1
    maximum: int = 64
    stretch_limit: float = 1.3  # inbound audio slower than this: the media path is full
    # An answer's wait in the ASR queue beyond its own transcription (the citizen waits in
    # silence meanwhile). Transcription itself is not the limit: fewer calls barely speed
    # it up, and under other processes' load it alone took ~4 s here.
    asr_wait_limit_s: float = 3.0
    decrease: float = 0.7
    comfort_stretch: float = 1.15  # grow only with headroom: media this close to real time
    comfort: float = 0.5  # ... and answers waiting at most this share of asr_wait_limit_s
    utilisation: float = 0.8  # of the ASR workers' measured throughput
    # Seconds per utterance before the pool has timed one: single-threaded whisper next to
    # the calls' media took 2.4–4 s here (issue 17); too short a guess bunches the first calls.
    prior_service_s: float = 2.5
    max_spacing_s: float = 10.0


@dataclass
class CallHealth:
    """What one finished call says about the load."""

    stretch: float = 0.0
    late_speech: int = 0
    asr_s: float = 0.0  # the slowest answer's queue wait + transcription
    asr_jobs: int = 0
    overloaded: bool = False  # the call failed because of load (redialled)

    @classmethod
    def of(cls, call: CallResult | None, overloaded: bool = False) -> CallHealth:
        if call is None:
            return cls(overloaded=overloaded)
        media = call.media
        asr = [t.asr_s for t in call.turns if t.heard_s is not None]
        return cls(media.stretch if media else 0.0, media.late_speech if media else 0,
                   max(asr, default=0.0), len(asr), overloaded)


def overloaded(call: CallResult) -> bool:
    """Did this answered call fail, or risk a wrong result, because of load?

    An answer that came after its listening window closed (``late_speech``) means the
    robot talked over it: what it heard next may be the answer's tail. A call that got no
    usable answer while its audio arrived ``OVERLOAD_STRETCH`` slower than real time most
    likely missed the answer for the same reason."""
    if call.outcome != "answered" or call.media is None:
        return False
    if call.media.late_speech:
        return True
    if call.kind == "callback":
        usable = call.result is not None or call.handoff
    else:  # a reminder: only a missing acknowledgement can have been lost
        usable = call.acknowledged is not False
    return not usable and call.media.stretch >= OVERLOAD_STRETCH


@dataclass
class Admission:
    """The dialler's gate: ``acquire`` before a call, ``finished`` after it."""

    settings: AdmissionSettings = field(default_factory=AdmissionSettings)
    asr: Any = None  # an AsrPool (service_s, workers), or None: no ASR pacing
    clock: Callable[[], float] = time.monotonic
    limit: float = 0.0
    inflight: int = 0  # places taken (dialling, or waiting for their start slot)
    running: int = 0
    peak: int = 0  # most calls in progress at once
    cuts: int = 0
    _slow_start: bool = True
    _next_start: float = 0.0
    _last_cut: float = -math.inf
    _jobs_per_call: float = 1.0
    history: list[tuple[float, int]] = field(default_factory=list)  # (time, limit) changes

    def __post_init__(self) -> None:
        s = self.settings
        self.limit = float(max(s.minimum, min(s.initial, s.maximum)))

    @property
    def admitted(self) -> int:
        return int(self.limit)

    def spacing_s(self) -> float:
        if self.asr is None:
            return 0.0
        service = self.asr.service_s
        if service is None:
            service = self.settings.prior_service_s
        workers = max(1, int(getattr(self.asr, "workers", 1)))
        spacing = service * self._jobs_per_call / workers / self.settings.utilisation
        return min(spacing, self.settings.max_spacing_s)

    def asr_wait_s(self, health: CallHealth) -> float:
        """How long the call's slowest answer waited for a worker (its decision time less
        the recent time per transcription)."""
        service = getattr(self.asr, "service_s", None) if self.asr is not None else None
        return max(0.0, health.asr_s - (service or 0.0))

    def free_slots(self) -> int:
        """Places free now (calls waiting for their start slot hold theirs)."""
        return max(0, self.admitted - self.inflight)

    def take(self) -> float | None:
        """Reserve a place and the next start slot: seconds to wait before dialling, or
        None when every place is taken."""
        if self.inflight >= self.admitted:
            return None
        now = self.clock()
        slot = max(now, self._next_start)
        self._next_start = slot + self.spacing_s()
        self.inflight += 1
        return slot - now

    def begin(self) -> float:
        """The reserved call is dialling now; returns its start time for ``finished``."""
        self.running += 1
        self.peak = max(self.peak, self.running)
        return self.clock()

    async def acquire(self) -> float:
        """Wait for a place and a start slot (event-loop only); returns the start time."""
        while (delay := self.take()) is None:
            await asyncio.sleep(POLL_S)
        if delay > 0:
            await asyncio.sleep(delay)
        return self.begin()

    def finished(self, started_at: float, health: CallHealth) -> None:
        self.inflight = max(0, self.inflight - 1)
        self.running = max(0, self.running - 1)
        s = self.settings
        if not health.overloaded:  # unanswered calls need no ASR: they count, as zero
            self._jobs_per_call = 0.8 * self._jobs_per_call + 0.2 * health.asr_jobs
        waited = self.asr_wait_s(health)
        bad = (health.overloaded or health.late_speech > 0
               or health.stretch > s.stretch_limit or waited > s.asr_wait_limit_s)
        if bad:
            if started_at > self._last_cut:  # one cut per generation of calls
                self.limit = max(float(s.minimum), self.limit * s.decrease)
                self._last_cut = self.clock()
                self._slow_start = False
                self.cuts += 1
                self._record()
            return
        if self.inflight + 1 < self.admitted:
            return  # the limit was not what held calls back: no evidence it can grow
        if health.stretch > s.comfort_stretch or waited > s.asr_wait_limit_s * s.comfort:
            return  # healthy, but near a limit: hold (probing would overload)
        grow = 1.0 if self._slow_start else 1.0 / self.limit
        before = self.admitted
        self.limit = min(float(s.maximum), self.limit + grow)
        if self.admitted != before:
            self._record()

    def _record(self) -> None:
        self.history.append((round(self.clock(), 3), self.admitted))
