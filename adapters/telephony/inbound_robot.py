"""The inbound robot: one incoming call over WebRTC, from pick-up to hand-off or goodbye.

The media gateway holds the caller's incoming call and the robot picks it up by offering a
media session for that call (the same signalling as an outbound dial: ``signalling``; in a
deployment the SIP/WebRTC gateway bridges the waiting caller to the robot's leg; in tests
the simulated citizens of ``tools.sim_citizen``). Then:

1. the inbound desk opens the call (``adapters.inbound.desk``): a 老年一键通 or VIP caller is
   handed to a person before a word is said;
2. the robot says the desk's sentences (text-to-speech: ``tts``; the sentences are exactly
   what the call record stores as said), and listens (webrtcvad end of speech; longer turns
   than a callback's answers);
3. each turn is transcribed on the ASR pool with the inbound prompt, and the desk
   understands it, takes the next step and records it; silence is a turn not understood; a
   transcript that is not mostly Chinese is checked with whisper's language detection, and
   speech in another language goes to a person at once;
4. until the desk ends the call (a hand-off, a transfer, goodbye) or the caller hangs up.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np

from adapters.inbound.desk import InboundDesk, Reply
from adapters.telephony.answering import clean
from adapters.telephony.asr import AsrPool
from adapters.telephony.media import SAMPLE_RATE, CallEnded, EndpointSettings, listen
from adapters.telephony.prompts import PHRASE_GAP_S
from adapters.telephony.signalling import SignallingError
from adapters.telephony.tts import EspeakTts, Tts
from adapters.telephony.webrtc import CallLeg, CallSetupError, dial

log = logging.getLogger(__name__)
# A question is a sentence or two: more room than a callback's one-word answer.
QUESTION = EndpointSettings(no_speech_s=6.0, max_speech_s=15.0, end_silence_s=0.8)


# Another language must be this sure before a caller is taken for a non-Mandarin speaker.
MIN_LANGUAGE_PROBABILITY = 0.5


def mostly_chinese(text: str) -> bool:
    """At least half the transcript's letters are CJK characters (whisper, told the
    language is zh, writes other speech in Latin letters or kana)."""
    letters = [ch for ch in text if ch.isalpha()]
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in letters)
    return bool(letters) and han * 2 >= len(letters)


@dataclass(frozen=True)
class InboundTask:
    call_id: str
    caller: str
    line: str = "12345"


@dataclass
class InboundResult:
    call_id: str
    outcome: str  # the pick-up: answered, or what the gateway said; error
    turns: list[dict[str, Any]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    ended_by: str | None = None  # robot (its step ended the call) or caller
    error: str | None = None


class InboundRobot:
    def __init__(self, gateway_url: str, asr: AsrPool, desk: InboundDesk, *,
                 tts: Tts | None = None, settings: EndpointSettings = QUESTION) -> None:
        self.gateway_url = gateway_url
        self.asr = asr
        self.desk = desk
        self.tts = tts or EspeakTts()
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def answer(self, task: InboundTask) -> InboundResult:
        """Pick up one call and hold the conversation; never raises for call failures."""
        result = InboundResult(task.call_id, outcome="error")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            outcome, leg = await dial(self._session, self.gateway_url, call_id=task.call_id,
                                      number=task.caller)
        except (SignallingError, CallSetupError, TimeoutError) as error:
            result.error = str(error)
            log.warning("inbound call %s could not be picked up: %s", task.call_id, error)
            return result
        result.outcome = outcome
        if leg is None:
            return result
        try:
            reply = await asyncio.to_thread(self.desk.start, task.call_id, caller=task.caller,
                                            line=task.line)
            await self._converse(leg, task, reply, result)
            result.ended_by = "robot"
        except CallEnded:
            result.ended_by = "caller"
            await asyncio.to_thread(self.desk.hang_up, task.call_id)
        finally:
            await leg.hangup(notify=result.ended_by != "caller")
        return result

    async def _say(self, leg: CallLeg, reply: Reply, result: InboundResult) -> None:
        """The reply's sentences as ONE utterance, phrase gaps between them: a caller (and
        the simulated one) takes the robot's silent tail as its turn to speak."""
        pieces = [await asyncio.to_thread(self.tts.synthesize, text) for text in reply.said]
        gap = np.zeros(int(PHRASE_GAP_S * SAMPLE_RATE), np.int16)
        joined = [part for pcm in pieces for part in (pcm, gap)][:-1]
        result.said += reply.said
        if joined:
            await leg.say(np.concatenate(joined))
        if leg.remote_hung_up:
            raise CallEnded

    async def _converse(self, leg: CallLeg, task: InboundTask, reply: Reply,
                        result: InboundResult) -> None:
        while True:
            await self._say(leg, reply, result)
            if reply.ended:
                return
            leg.inbox.drain()
            audio, _ended = await listen(leg.inbox, self.settings)
            text, mandarin = "", True
            if audio is not None:
                text = clean((await self.asr.transcribe(audio, "inbound")).text)
                if not mostly_chinese(text):  # in doubt: is this Mandarin at all?
                    code, probability = await self.asr.language(audio)
                    mandarin = code == "zh" or probability < MIN_LANGUAGE_PROBABILITY
            reply = await asyncio.to_thread(self.desk.turn, task.call_id, text,
                                            mandarin=mandarin)
            result.turns.append({"transcript": text, "step": reply.step.kind,
                                 "citation": reply.citation, "reason": reply.step.reason,
                                 "mandarin": mandarin})
