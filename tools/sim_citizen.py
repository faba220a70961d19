"""Simulated citizens behind a simulated media gateway, over real WebRTC.

The gateway speaks the robot's signalling protocol (``adapters.telephony.signalling``) and
answers each dialled number the way its ``Citizen`` says: pick up and answer the robot's
questions with WAV files (one per robot turn: a sequence covers re-asks), or fail the call
with no_answer / busy / 空号 / 停机. Unknown numbers are 空号.

A citizen answers like a person on the phone: it waits until the robot has spoken and then
been quiet for ``turn_gap_s`` (counted in received silent frames), pauses ``reply_delay_s``
and plays its next WAV. Silence fixtures make a citizen who says nothing.

In process (tests, drills, benchmarks)::

    gateway = SimulatedGateway({"13800138000": Citizen(answers=["satisfied_1.wav"])})
    url = await gateway.start()          # http://127.0.0.1:PORT
    ...
    await gateway.stop()

As a program (Ctrl-C or SIGTERM to stop)::

    python -m tools.sim_citizen --port 8765 \\
        --citizen 13800138000=tests/fixtures/audio/satisfied_1.wav \\
        --citizen 13900139000=空号 --default tests/fixtures/audio/dissatisfied_1.wav
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from aiohttp import web

from adapters.telephony.ice import loopback_only
from adapters.telephony.media import CallEnded, rms, to_int16
from adapters.telephony.signalling import (
    FAILED_OUTCOMES,
    OUTCOMES,
    DialRequest,
    DialResponse,
    IncomingCall,
    gateway_app,
)
from adapters.telephony.webrtc import CallLeg, answer

LOUD_RMS = 0.01  # robot audio above this is speech (its prompts are normalised to -6 dBFS)

Audio = str | os.PathLike[str] | np.ndarray


def load_answer(source: Audio) -> np.ndarray:
    """A WAV path (any PCM WAV; converted to 16 kHz mono) or an array -> int16."""
    if isinstance(source, np.ndarray):
        return to_int16(source)
    from adapters.asr.whisper import read_wav

    return to_int16(read_wav(source))


@dataclass
class Citizen:
    """How one number behaves when dialled."""

    outcome: str = "answered"  # answered | no_answer | busy | 空号 | 停机
    answers: Sequence[Audio] = ()  # one per robot turn, in order; then silence
    ring_s: float = 0.2  # how long it rings before the outcome
    turn_gap_s: float = 0.8  # robot silence that ends the robot's turn
    reply_delay_s: float = 0.25  # pause before answering
    hang_up_after_s: float | None = None  # hang up by itself after this long
    # The network's reason for a failed call, sent with the outcome (e.g. 486 with busy).
    sip_status: int | None = None
    q850_cause: int | None = None
    # Plays its first WAV as soon as the call connects, before the robot says anything:
    # a carrier's recorded announcement ("您拨打的号码是空号"), or a person's "喂".
    speaks_first: bool = False

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; expected one of {OUTCOMES}")


@dataclass
class CallRecord:
    """What the gateway saw of one call (for tests and benchmarks)."""

    call_id: str
    number: str
    outcome: str
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    answers_played: int = 0
    robot_turns: int = 0
    heard_s: float = 0.0  # seconds of robot audio received
    answered_at: list[float] = field(default_factory=list)  # monotonic end of each answer
    hung_up_by: str | None = None


class SimulatedGateway:
    """A media gateway whose subscribers are simulated citizens (aiohttp + aiortc)."""

    def __init__(self, citizens: dict[str, Citizen] | None = None,
                 default: Citizen | None = None, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.citizens = dict(citizens or {})
        self.default = default
        self.host = host
        self.port = port
        self.records: dict[str, CallRecord] = {}
        self._legs: dict[str, CallLeg] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._answers: dict[str, np.ndarray] = {}
        self.waiting: deque[IncomingCall] = deque()  # inbound callers not yet picked up
        self.url = ""

    def set(self, number: str, citizen: Citizen) -> None:
        self.citizens[number] = citizen

    def ring_in(self, caller: str, line: str = "12345", citizen: Citizen | None = None) -> str:
        """A citizen calls the centre: the call waits until a robot claims it, then the
        robot takes it like any call to `caller` (whose Citizen speaks)."""
        if citizen is not None:
            self.citizens[caller] = citizen
        call_id = f"in-{len(self.records) + len(self.waiting) + 1:06d}-{caller[-4:]}"
        self.waiting.append(IncomingCall(call_id, caller, line))
        return call_id

    async def start(self) -> str:
        if self.host in ("127.0.0.1", "localhost"):
            loopback_only()
        self._runner = web.AppRunner(gateway_app(self._on_call, self._on_hangup,
                                                 self._on_claim),
                                     access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.port
        self.url = f"http://{self.host}:{self.port}"
        return self.url

    async def stop(self) -> None:
        for leg in list(self._legs.values()):
            await leg.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimulatedGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def calls_to(self, number: str) -> list[CallRecord]:
        return [r for r in self.records.values() if r.number == number]

    # ----- protocol handlers ------------------------------------------------------------
    async def _on_call(self, request: DialRequest) -> DialResponse:
        citizen = self.citizens.get(request.number, self.default)
        outcome = citizen.outcome if citizen else "空号"
        record = CallRecord(request.call_id, request.number, outcome)
        self.records[request.call_id] = record
        if citizen is not None:
            await asyncio.sleep(citizen.ring_s)
        if citizen is None or outcome in FAILED_OUTCOMES:
            record.ended = time.monotonic()
            return DialResponse(request.call_id, outcome,
                                sip_status=citizen.sip_status if citizen else None,
                                q850_cause=citizen.q850_cause if citizen else None)
        leg, sdp = await answer(request.sdp, call_id=request.call_id, level_only=True)
        self._legs[request.call_id] = leg
        task = asyncio.create_task(self._converse(leg, citizen, record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return DialResponse(request.call_id, "answered", sdp, "answer")

    def _on_claim(self, limit: int) -> list[IncomingCall]:
        return [self.waiting.popleft() for _ in range(min(limit, len(self.waiting)))]

    async def _on_hangup(self, call_id: str) -> None:
        leg = self._legs.pop(call_id, None)
        record = self.records.get(call_id)
        if record is not None and record.hung_up_by is None:
            record.hung_up_by = "robot"
        if leg is not None:
            await leg.close()

    # ----- the citizen's side of the conversation -----------------------------------------
    def _load(self, source: Audio) -> np.ndarray:
        if isinstance(source, np.ndarray):
            return to_int16(source)
        key = str(source)
        if key not in self._answers:
            self._answers[key] = load_answer(source)
        return self._answers[key]

    async def _converse(self, leg: CallLeg, citizen: Citizen, record: CallRecord) -> None:
        """Answer after each robot turn. A turn is over after ``turn_gap_s`` of quiet robot
        audio, counted in frames (the robot ends every utterance with a silent tail); the wall
        clock is only a fallback (no frames at all for turn_gap_s + 2 s)."""
        answers = deque(self._load(a) for a in citizen.answers)
        if citizen.speaks_first and answers:
            connect_by = time.monotonic() + 10
            while leg.pc.connectionState != "connected" and time.monotonic() < connect_by:
                await asyncio.sleep(0.01)  # audio sent before ICE connects would be lost
            await leg.say(answers.popleft())
            record.answers_played += 1
            record.answered_at.append(time.monotonic())
        robot_spoke = False
        quiet_s = 0.0
        last_frame_at = time.monotonic()
        deadline = (time.monotonic() + citizen.hang_up_after_s
                    if citizen.hang_up_after_s is not None else None)
        try:
            while not leg.closed.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    record.hung_up_by = "citizen"
                    break
                frame = await leg.inbox.get(0.1)
                if frame is not None:
                    last_frame_at = frame.at
                    record.heard_s += frame.seconds
                    if rms(frame.pcm) > LOUD_RMS:
                        if not robot_spoke:
                            record.robot_turns += 1
                        robot_spoke = True
                        quiet_s = 0.0
                    else:
                        quiet_s += frame.seconds
                quiet = quiet_s >= citizen.turn_gap_s or (
                    frame is None and time.monotonic() - last_frame_at >= citizen.turn_gap_s + 2)
                if robot_spoke and quiet:
                    robot_spoke = False  # the robot's turn is over: our turn
                    if answers and not leg.player.speaking:
                        await asyncio.sleep(citizen.reply_delay_s)
                        await leg.say(answers.popleft())
                        record.answers_played += 1
                        record.answered_at.append(time.monotonic())
        except CallEnded:
            if record.hung_up_by is None:
                record.hung_up_by = "robot"
        finally:
            record.ended = time.monotonic()
            self._legs.pop(leg.call_id, None)
            await leg.close()


# --------------------------------------------------------------------------- program


def parse_citizen(spec: str) -> tuple[str, Citizen]:
    """NUMBER=OUTCOME or NUMBER=FILE[,FILE...] (answers, in order)."""
    number, sep, rest = spec.partition("=")
    if not sep or not number or not rest:
        raise argparse.ArgumentTypeError(f"expected NUMBER=OUTCOME or NUMBER=FILE[,FILE], got {spec!r}")
    return number.strip(), citizen_from(rest)


def citizen_from(text: str) -> Citizen:
    if text in OUTCOMES:
        return Citizen(outcome=text)
    files = [Path(f) for f in text.split(",") if f]
    for f in files:
        if not f.is_file():
            raise argparse.ArgumentTypeError(f"answer file not found: {f}")
    return Citizen(answers=tuple(files))


async def _serve(args: argparse.Namespace) -> None:
    citizens = dict(parse_citizen(s) for s in args.citizen)
    default = citizen_from(args.default) if args.default else None
    gateway = SimulatedGateway(citizens, default, host=args.host, port=args.port)
    url = await gateway.start()
    print(f"simulated media gateway on {url} ({len(citizens)} citizens"
          f"{', default answers' if default else ', unknown numbers are 空号'}); Ctrl-C to stop",
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await gateway.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulated citizens on a WebRTC media gateway.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--citizen", action="append", default=[],
                        metavar="NUMBER=OUTCOME|FILE[,FILE]",
                        help="a number and how it answers (repeatable)")
    parser.add_argument("--default", metavar="OUTCOME|FILE[,FILE]",
                        help="behaviour of numbers not listed (default: 空号)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
