"""Audio on a WebRTC call: a paced player, an inbound-audio reader and a VAD endpointer.

* ``PlayerTrack`` is the outgoing audio track. ``play(pcm)`` queues 16 kHz mono int16 audio
  and returns a future that resolves once the audio has been handed to the encoder. Frames
  are paced in real time (20 ms each). Every utterance is followed by ``TAIL_S`` of silence
  frames, and only then does the track go quiet and send nothing until the next utterance
  (silence suppression, like VoIP DTX: 40 concurrent calls cost CPU only while someone
  speaks). The silent tail does two jobs: the receiver's jitter buffer holds back the last
  ~80 ms until newer packets arrive (stack notes), and the other side can tell "the turn is
  over" by counting silent frames — media time, immune to scheduling jitter — instead of
  measuring gaps on a wall clock that a busy event loop stretches.
* ``AudioInbox`` reads the remote track (s16 stereo 48 kHz as aiortc delivers it), resamples
  to 16 kHz mono with ``av.AudioResampler`` and queues 20 ms frames with their arrival time.
* ``ArrivalMeter`` measures how late the remote audio runs: the wall time a burst of frames
  took to arrive over its media time (1.0 = real time). Measured (issue 17): 16 concurrent
  calls on 2 cores arrive at 1.0–1.2, 40 calls at ~4 — the media path fell behind real time.
* ``Endpointer`` finds one utterance in those frames with webrtcvad: speech starts after
  enough voiced frames in a short window and ends after ``end_silence_s`` of non-speech
  frames. ``listen`` adds the wall clock only as a fallback for senders that stop sending
  without a silent tail (``end_silence_s + GAP_GRACE_S`` without any frame).
"""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import webrtcvad
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

SAMPLE_RATE = 16000
FRAME_SAMPLES = 320  # 20 ms at 16 kHz
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
TAIL_S = 1.0  # silence after every utterance (covers end-of-turn detection on the far side)
FLUSH_S = 0.2  # part of the tail sent before play() reports the utterance done
GAP_GRACE_S = 1.5  # wall-clock allowance on top of end_silence_s when no frames arrive
# A call's first frames can take a while to arrive after the answer (DTLS, a loaded
# machine): the no-speech window of a listen that starts before any media counts from the
# first frame, waiting at most this long for it.
MEDIA_START_S = 3.0
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
SILENCE_RMS = 0.004  # below this (about -48 dBFS) a frame is silence whatever the VAD says
LOUD_RMS = 0.01  # a dropped frame this loud was somebody speaking (answers peak at ~0.17)
LATE_SPEECH_FRAMES = 10  # 200 ms of loud audio dropped after a missed window: a late answer
BURST_GAP_S = 0.5  # an arrival gap this long ends a burst (senders go quiet between turns)
BURST_MIN_FRAMES = 25  # shorter bursts say too little about the arrival rate


def to_int16(audio: np.ndarray) -> np.ndarray:
    """float [-1, 1] or int16 -> contiguous int16."""
    if audio.dtype == np.int16:
        return np.ascontiguousarray(audio)
    return np.ascontiguousarray((np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16))


def rms(frame: np.ndarray) -> float:
    if frame.size == 0:
        return 0.0
    return float(np.sqrt(np.mean((frame.astype(np.float32) / 32768.0) ** 2)))


OPUS_CLOCK = 48000  # RTP clock of Opus, whatever the audio's own rate
OPUS_TIME_BASE = fractions.Fraction(1, OPUS_CLOCK)
OPUS_BITRATE = 32000
_OPUS_CACHE: OrderedDict[bytes, list[bytes]] = OrderedDict()
_OPUS_CACHE_SIZE = 256


def split_frames(pcm: np.ndarray) -> list[np.ndarray]:
    """int16 audio as 20 ms frames (the last one padded with silence)."""
    pcm = to_int16(pcm)
    padded = np.concatenate([pcm, np.zeros(-pcm.size % FRAME_SAMPLES, np.int16)])
    return [padded[i:i + FRAME_SAMPLES] for i in range(0, padded.size, FRAME_SAMPLES)]


def opus_packets(pcm: np.ndarray) -> list[bytes]:
    """16 kHz mono int16 -> one Opus packet per 20 ms (cached: prompts repeat on every call).

    Encoding a whole utterance at once in libopus costs a few ms; encoding it frame by frame
    through aiortc's sender costs a thread hop and a pure-Python audio-level loop per frame,
    which is most of a call's CPU when 40 calls run at once.
    """
    frames = split_frames(pcm)
    key = hashlib.blake2b(b"".join(f.tobytes() for f in frames), digest_size=16).digest()
    cached = _OPUS_CACHE.get(key)
    if cached is not None:
        _OPUS_CACHE.move_to_end(key)
        return cached
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = SAMPLE_RATE
    codec.layout = "mono"
    codec.format = "s16"
    codec.bit_rate = OPUS_BITRATE
    codec.time_base = TIME_BASE
    packets: list[bytes] = []
    for index, samples in enumerate(frames):
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = index * FRAME_SAMPLES
        packets += [bytes(p) for p in codec.encode(frame)]  # type: ignore[attr-defined]
    packets += [bytes(p) for p in codec.encode(None)]  # type: ignore[attr-defined]
    _OPUS_CACHE[key] = packets
    while len(_OPUS_CACHE) > _OPUS_CACHE_SIZE:
        _OPUS_CACHE.popitem(last=False)
    return packets


class _Item:
    """One queued piece of audio: 20 ms chunks (PCM frames or encoded packets)."""

    __slots__ = ("chunks", "pos", "done", "speech")

    def __init__(self, chunks: list[Any], done: asyncio.Future[None] | None,
                 speech: bool) -> None:
        self.chunks = chunks
        self.pos = 0
        self.done = done
        self.speech = speech


class PlayerTrack(MediaStreamTrack):
    """Outgoing audio: queued utterances, paced at real time, nothing sent while idle.

    After ``use_opus()`` (the negotiated codec is Opus) the track yields pre-encoded Opus
    packets, which aiortc's sender forwards as they are; otherwise it yields PCM frames and
    aiortc encodes them for whatever codec was negotiated (e.g. PCMU from a SIP gateway).
    """

    kind = "audio"

    def __init__(self, *, suppress_silence: bool = True) -> None:
        super().__init__()
        self.suppress_silence = suppress_silence
        self.opus = False
        self._items: deque[_Item] = deque()
        self._wake = asyncio.Event()
        self._start: float | None = None
        self._pts = 0
        self.frames_sent = 0

    def use_opus(self, enabled: bool = True) -> None:
        self.opus = enabled

    @property
    def speaking(self) -> bool:
        """True while an utterance (not just its silent tail) is being sent."""
        return any(item.speech for item in self._items)

    def _chunks(self, pcm: np.ndarray) -> list[Any]:
        return opus_packets(pcm) if self.opus else split_frames(pcm)

    def play(self, pcm: np.ndarray, tail_s: float = TAIL_S) -> asyncio.Future[None]:
        """Queue audio (int16 or float, 16 kHz mono) and its silent tail; the future resolves
        when the audio and the first FLUSH_S of the tail were sent."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        flush = np.zeros(int(min(FLUSH_S, tail_s) * SAMPLE_RATE), np.int16)
        self._items.append(_Item(self._chunks(np.concatenate([to_int16(pcm), flush])), done,
                                 speech=True))
        rest = int(max(0.0, tail_s - FLUSH_S) * SAMPLE_RATE)
        if rest:
            self._items.append(_Item(self._chunks(np.zeros(rest, np.int16)), None,
                                     speech=False))
        self._wake.set()
        return done

    def cancel_playback(self) -> None:
        while self._items:
            item = self._items.popleft()
            if item.done is not None and not item.done.done():
                item.done.cancel()

    def stop(self) -> None:
        self.cancel_playback()
        self._wake.set()
        super().stop()

    async def recv(self) -> av.AudioFrame | av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self.suppress_silence and not self._items:
            while not self._items:
                self._wake.clear()
                await self._wake.wait()
                if self.readyState != "live":
                    raise MediaStreamError
            if self._start is not None:
                # Resume on the wall clock: RTP timestamps keep counting real time.
                elapsed = int((time.time() - self._start) * SAMPLE_RATE)
                self._pts = max(self._pts + FRAME_SAMPLES,
                                elapsed - elapsed % FRAME_SAMPLES)
        if self._start is None:
            self._start = time.time() - self._pts / SAMPLE_RATE
        else:
            wait = self._start + self._pts / SAMPLE_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        chunk = self._next_chunk()
        out: av.AudioFrame | av.Packet
        if isinstance(chunk, bytes):
            out = av.Packet(chunk)
            out.pts = self._pts * (OPUS_CLOCK // SAMPLE_RATE)
            out.time_base = OPUS_TIME_BASE
        else:
            out = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            out.sample_rate = SAMPLE_RATE
            out.pts = self._pts
            out.time_base = TIME_BASE
        self._pts += FRAME_SAMPLES
        self.frames_sent += 1
        return out

    def _next_chunk(self) -> Any:
        while self._items:
            item = self._items[0]
            if item.pos < len(item.chunks):
                chunk = item.chunks[item.pos]
                item.pos += 1
                if item.pos >= len(item.chunks):
                    self._finish()
                return chunk
            self._finish()
        # Nothing queued (only without silence suppression): a silent chunk.
        return self._chunks(np.zeros(FRAME_SAMPLES, np.int16))[0]

    def _finish(self) -> None:
        item = self._items.popleft()
        if item.done is not None and not item.done.done():
            item.done.set_result(None)


class CallEnded(Exception):
    """The other side hung up (the remote track ended)."""


@dataclass
class InFrame:
    pcm: np.ndarray  # int16: 20 ms at 16 kHz mono, or the decoded frame as is (level_only)
    at: float  # time.monotonic() at arrival
    seconds: float = FRAME_S


class ArrivalMeter:
    """Arrival rate of 20 ms frames: the worst burst's stretch (wall s per media s).

    A burst is a run of frames without an arrival gap of ``BURST_GAP_S``; frames decoded
    together arrive with one timestamp, so only bursts of ``BURST_MIN_FRAMES`` count."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.bursts = 0
        self._first = self._last = 0.0
        self._media = 0.0

    def add(self, at: float, seconds: float = FRAME_S) -> None:
        if self._media and at - self._last > BURST_GAP_S:
            self._close()
        if not self._media:
            self._first = at
        self._last = at
        self._media += seconds

    def _close(self) -> None:
        if self._media >= BURST_MIN_FRAMES * FRAME_S:
            # the first frame's own duration is not covered by the arrival span
            self.worst = max(self.worst, (self._last - self._first) / (self._media - FRAME_S))
            self.bursts += 1
        self._media = 0.0

    @property
    def stretch(self) -> float:
        """The worst burst so far, the one still arriving included (0.0: none measured)."""
        worst = self.worst
        if self._media >= BURST_MIN_FRAMES * FRAME_S:
            worst = max(worst, (self._last - self._first) / (self._media - FRAME_S))
        return worst


@dataclass(frozen=True)
class MediaHealth:
    """What one call's inbound audio says about the media path's load."""

    stretch: float  # worst burst: wall seconds per media second (0.0: not measured)
    late_speech: int  # answers that arrived after their listening window had closed


class AudioInbox:
    """The remote audio as 20 ms, 16 kHz mono int16 frames, in arrival order.

    ``level_only``: skip resampling and queue each decoded frame as it is (interleaved
    samples at the codec's rate): enough for loudness, at a fraction of the cost. The
    simulated citizens use it to follow the robot's turns.
    """

    def __init__(self, track: MediaStreamTrack, *, level_only: bool = False) -> None:
        self.track = track
        self.level_only = level_only
        self._queue: asyncio.Queue[InFrame | None] = asyncio.Queue()
        self._carry = np.zeros(0, np.int16)
        self.ended = False
        self.frames_received = 0
        self.meter = ArrivalMeter()
        # Set by listen() when nobody spoke in time; a loud drain() afterwards means the
        # answer came, only too late (media lag), and the drain is throwing it away.
        self.missed_window = False
        self.late_speech = 0
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        try:
            while True:
                frame = await self.track.recv()
                if self.level_only and isinstance(frame, av.AudioFrame):
                    self.frames_received += 1
                    seconds = frame.samples / (frame.sample_rate or 1)
                    now = time.monotonic()
                    self.meter.add(now, seconds)
                    self._queue.put_nowait(InFrame(frame.to_ndarray().reshape(-1), now,
                                                   seconds))
                    continue
                for out in resampler.resample(frame):  # type: ignore[arg-type]
                    self._push(out.to_ndarray().reshape(-1))
        except (MediaStreamError, asyncio.CancelledError):
            pass
        finally:
            self.ended = True
            self._queue.put_nowait(None)

    def _push(self, samples: np.ndarray) -> None:
        data = np.concatenate([self._carry, samples.astype(np.int16)])
        now = time.monotonic()
        whole = data.size - data.size % FRAME_SAMPLES
        for start in range(0, whole, FRAME_SAMPLES):
            self._queue.put_nowait(InFrame(data[start:start + FRAME_SAMPLES], now))
            self.meter.add(now)
            self.frames_received += 1
        self._carry = data[whole:]

    def drain(self) -> None:
        """Forget everything received so far (audio that arrived while we were speaking).
        Loud audio dropped after a missed listening window counts as a late answer."""
        loud = 0
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                self._queue.put_nowait(None)
                break
            if self.missed_window and rms(item.pcm) > LOUD_RMS:
                loud += 1
        if loud >= LATE_SPEECH_FRAMES:
            self.late_speech += 1
        self.missed_window = False

    def health(self) -> MediaHealth:
        """At the end of a call: an answer still queued after a missed window was late too."""
        self.drain()
        return MediaHealth(round(self.meter.stretch, 3), self.late_speech)

    async def get(self, timeout: float) -> InFrame | None:
        """The next frame, or None when none arrives within ``timeout`` s; CallEnded at end."""
        if self.ended and self._queue.empty():
            raise CallEnded
        try:
            item = await asyncio.wait_for(self._queue.get(), max(timeout, 0.0))
        except TimeoutError:
            return None
        if item is None:
            self._queue.put_nowait(None)
            raise CallEnded
        return item

    async def close(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


@dataclass(frozen=True)
class EndpointSettings:
    vad_mode: int = 2  # webrtcvad aggressiveness 0..3
    start_window: int = 10  # frames looked at to decide that speech started
    start_voiced: int = 6  # voiced frames in that window
    end_silence_s: float = 0.7  # non-speech after speech that ends the utterance
    no_speech_s: float = 5.0  # nobody spoke within this time: silence
    max_speech_s: float = 10.0  # an answer longer than this is cut here
    preroll_s: float = 0.3  # audio kept from before the detected start


class Endpointer:
    """One utterance out of a stream of 20 ms frames (pure: no clocks, no I/O)."""

    def __init__(self, settings: EndpointSettings = EndpointSettings()) -> None:
        self.settings = settings
        self._vad = webrtcvad.Vad(settings.vad_mode)
        self._window: deque[tuple[np.ndarray, bool]] = deque(maxlen=max(
            settings.start_window, int(settings.preroll_s / FRAME_S)))
        self._speech: list[np.ndarray] = []
        self.started = False
        self.done = False
        self._silent_frames = 0
        self._last_voiced = 0  # index into _speech after the last voiced frame

    def is_voiced(self, frame: np.ndarray) -> bool:
        if rms(frame) < SILENCE_RMS:
            return False
        return bool(self._vad.is_speech(frame.tobytes(), SAMPLE_RATE))

    def feed(self, frame: np.ndarray) -> bool:
        """Add one frame; True once the utterance is complete."""
        if self.done:
            return True
        voiced = self.is_voiced(frame)
        if not self.started:
            self._window.append((frame, voiced))
            recent = list(self._window)[-self.settings.start_window:]
            if sum(v for _, v in recent) >= self.settings.start_voiced:
                self.started = True
                self._speech = [f for f, _ in self._window]
                self._last_voiced = len(self._speech)
            return False
        self._speech.append(frame)
        if voiced:
            self._silent_frames = 0
            self._last_voiced = len(self._speech)
        else:
            self._silent_frames += 1
        if self._silent_frames * FRAME_S >= self.settings.end_silence_s:
            self.done = True
        elif len(self._speech) * FRAME_S >= self.settings.max_speech_s:
            self.done = True
        return self.done

    def gap(self) -> None:
        """No frames for end_silence_s of wall-clock time (silence suppression): end."""
        if self.started:
            self.done = True

    def audio(self) -> np.ndarray:
        """The utterance, up to 200 ms after its last voiced frame."""
        keep = min(len(self._speech), self._last_voiced + int(0.2 / FRAME_S))
        frames = self._speech[:keep]
        return np.concatenate(frames) if frames else np.zeros(0, np.int16)

    @property
    def speech_seconds(self) -> float:
        return len(self._speech) * FRAME_S


async def listen(inbox: AudioInbox, settings: EndpointSettings = EndpointSettings()
                 ) -> tuple[np.ndarray | None, float]:
    """Wait for one utterance: (int16 audio or None when nobody spoke, monotonic end time).

    The end of speech is counted in frames (media time); the wall clock only decides that
    nobody spoke (``no_speech_s``, from the first frame when media has not begun yet: at most
    ``MEDIA_START_S`` later) or, as a fallback, that a sender went quiet without a
    silent tail. Raises CallEnded if the other side hangs up first.
    """
    endpointer = Endpointer(settings)
    loop_start = time.monotonic()
    last_frame_at = loop_start
    window_start = loop_start if inbox.frames_received else None
    while True:
        now = time.monotonic()
        if endpointer.started:
            timeout = settings.end_silence_s + GAP_GRACE_S - (now - last_frame_at)
        else:
            start = window_start if window_start is not None else loop_start + MEDIA_START_S
            timeout = settings.no_speech_s - (now - start)
        if timeout <= 0:
            if endpointer.started:
                endpointer.gap()
                return endpointer.audio(), time.monotonic()
            inbox.missed_window = True
            return None, time.monotonic()
        frame = await inbox.get(timeout)
        if frame is None:
            continue  # re-evaluate the deadlines above
        last_frame_at = frame.at
        if window_start is None:
            window_start = min(frame.at, loop_start + MEDIA_START_S)
        if endpointer.feed(frame.pcm):
            return endpointer.audio(), frame.at
