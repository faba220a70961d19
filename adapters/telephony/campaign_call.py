"""One campaign call (外呼任务) over WebRTC: dial, hear who answered, hold the kind's dialogue.

1. dial and hear who answered (``answering.pick_up``, shared with the callback robot): a
   failed dial is read with its SIP / Q.850 cause, a carrier's recorded announcement
   ("您拨打的号码是空号") is the outcome it names and the robot hangs up silent;
2. a person answered (the call is 已接通): the kind's dialogue runs
   (``domain.campaign.dialogue``): a survey's questions in order along their branches, a notification's message and "听清楚了吗", a broadcast's
   message and its offer of a person. Each ask's sentences are said as one utterance, from
   the committed clips where they can say it word for word, else through the TTS port
   (``tts``: espeak-ng); each reply is transcribed and classified on the ASR pool into the
   ask's closed answer set (``adapters.asr.closed_set``: audio scores + the normalised
   transcript; the callback classifier for 满意/基本满意/不满意), doubtful → None, and the
   dialogue decides what follows.

Like the callback robot, this only talks; ``CampaignCallResult`` says what happened, with
the dialogue's record (``entries``: every sentence said, each answer, the confirmation, the
hand-off), and the campaign dialler (``campaign_dialler``) records it on the contact.

Entry point for drills and benchmarks: ``await place_campaign_call(robot, task)`` with a
``CampaignCallTask`` (kind survey: ``survey`` the questionnaire as the campaign recorded it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from adapters.asr.closed_set import classify_closed, scoring_candidates, uses_callback_classifier
from adapters.telephony.answering import clean, pick_up
from adapters.telephony.media import CallEnded, EndpointSettings, MediaHealth, listen
from adapters.telephony.prompts import PHRASE_GAP_S, SAMPLE_RATE
from adapters.telephony.robot import CallbackRobot
from adapters.telephony.script import UnvoiceableScript
from adapters.telephony.signalling import SignallingError
from adapters.telephony.tts import EspeakTts, SpeechUnavailable, Tts
from adapters.telephony.webrtc import CallLeg, CallSetupError
from domain.campaign.dialogue import Ask, Entry, Heard, dialogue_for

log = logging.getLogger(__name__)

# A reply to a question: a few words, after the citizen has thought for a moment.
REPLY = EndpointSettings(no_speech_s=4.0, end_silence_s=0.7, max_speech_s=8.0)
ERROR = "error"
KINDS = ("notification", "broadcast", "survey")


@dataclass
class CampaignCallTask:
    call_id: str
    number: str
    contact_ref: str
    message: str  # the message as the citizen hears it (rendered with the contact's columns)
    kind: str = "notification"  # notification | broadcast | survey
    survey: dict[str, Any] | None = None  # a survey's questionnaire (domain/campaign/survey.py)
    template: str | None = None  # the message as recorded (default: `message`)
    tts: Tts | None = None  # default: one espeak-ng voice per process


@dataclass
class CampaignCallResult:
    call_id: str
    number: str
    outcome: str  # a contact outcome (domain/campaign/states.py), or "error"
    detail: str = ""  # the cause, the announcement heard, or what went wrong
    heard: str = ""  # the transcript of what answered (announcement or greeting)
    played: list[str] = field(default_factory=list)  # prompt clips played
    said: list[str] = field(default_factory=list)  # every sentence said, as heard
    entries: list[Entry] = field(default_factory=list)  # the dialogue's record
    turns: list[dict[str, Any]] = field(default_factory=list)  # each reply: words, answer, why
    completed: bool = False  # the dialogue reached its end (not cut by a hang-up)
    hung_up_by: str | None = None
    media: MediaHealth | None = None
    answer_end: float | None = None  # time.monotonic() when the last reply ended

    @property
    def answers(self) -> dict[str, str]:
        """A survey's answers: question id -> label (or 未识别)."""
        from domain.campaign.dialogue import Answered

        return {e.question: e.answer for e in self.entries if isinstance(e, Answered)}


@cache
def default_tts() -> Tts:
    return EspeakTts()


class Voice:
    """Sentences as audio: the committed clips where they say it word for word, else TTS."""

    def __init__(self, robot: CallbackRobot, tts: Tts | None) -> None:
        self.robot = robot
        self._tts = tts

    def check(self, text: str) -> None:
        """UnvoiceableScript when neither the clips nor a TTS engine can say `text`."""
        try:
            self.robot.prompts.script(text)
        except UnvoiceableScript:
            try:
                self.tts()
            except SpeechUnavailable as error:
                raise UnvoiceableScript(f"{error}; and no prompt clip says {text!r}") from None

    def tts(self) -> Tts:
        if self._tts is None:
            self._tts = default_tts()
        return self._tts

    async def say(self, texts: list[str], result: CampaignCallResult) -> np.ndarray:
        pieces: list[np.ndarray] = []
        for text in texts:
            try:
                utterance = self.robot.prompts.script(text)
                result.played += utterance.clips
                pieces.append(utterance.pcm)
            except UnvoiceableScript:
                pieces.append(await asyncio.to_thread(self.tts().synthesize, text))
            result.said.append(text)
        gap = np.zeros(int(PHRASE_GAP_S * SAMPLE_RATE), np.int16)
        joined = [part for pcm in pieces for part in (pcm, gap)][:-1]
        return np.concatenate(joined) if joined else np.zeros(0, np.int16)


async def place_campaign_call(robot: CallbackRobot, task: CampaignCallTask
                              ) -> CampaignCallResult:
    """Place one campaign call; never raises for call failures (outcome "error"). A
    message neither the clips nor the TTS can say raises UnvoiceableScript before dialling."""
    if task.kind not in KINDS:
        raise ValueError(f"unknown campaign kind {task.kind!r}; expected one of {KINDS}")
    voice = Voice(robot, task.tts)
    if task.kind != "survey":
        voice.check(task.message)  # unvoiceable: nobody is dialled
    result = CampaignCallResult(task.call_id, task.number, ERROR)
    try:
        pickup = await pick_up(robot, call_id=task.call_id, number=task.number)
    except (SignallingError, CallSetupError, TimeoutError) as error:
        result.detail = str(error)
        log.warning("campaign call %s to %s failed: %s", task.call_id, task.contact_ref, error)
        return result
    result.outcome, result.detail, result.heard = pickup.outcome, pickup.detail, pickup.heard
    result.hung_up_by, result.media = pickup.hung_up_by, pickup.media
    leg = pickup.leg
    if leg is None:
        return result
    try:
        result.detail = f"{pickup.detail}; message played"
        await _converse(robot, leg, task, voice, result)
        result.hung_up_by = "citizen" if leg.remote_hung_up else "robot"
    except CallEnded:
        result.hung_up_by = "citizen"
        result.detail = f"{pickup.detail}; the callee hung up"
    finally:
        result.media = leg.inbox.health()
        await leg.hangup(notify=result.hung_up_by != "citizen")
    return result


async def _converse(robot: CallbackRobot, leg: CallLeg, task: CampaignCallTask, voice: Voice,
                    result: CampaignCallResult) -> None:
    template = task.template if task.template is not None else task.message
    dialogue = dialogue_for(task.kind, message=template, survey=task.survey)
    result.entries = dialogue.entries  # the record grows as the call goes (a hang-up keeps it)
    ask = dialogue.open()
    while True:
        leg.inbox.drain()
        await leg.say(await voice.say(_spoken(ask, task.message), result))
        if leg.remote_hung_up:
            raise CallEnded
        if ask.ends:
            result.completed = dialogue.done
            return
        ask = dialogue.hear(await _reply(robot, leg, ask, result))


def _spoken(ask: Ask, message: str) -> list[str]:
    """What is said for the ask: the campaign message rendered for this contact."""
    return [message if said.template else said.text for said in ask.said]


async def _reply(robot: CallbackRobot, leg: CallLeg, ask: Ask, result: CampaignCallResult
                 ) -> Heard:
    """Listen for one reply and classify it into the ask's closed set."""
    leg.inbox.drain()
    audio, ended = await listen(leg.inbox, REPLY)
    turn: dict[str, Any] = {"listen": ask.listen, "heard_s": None, "transcript": "",
                            "answer": None, "reason": "no speech", "asr_s": 0.0}
    result.turns.append(turn)
    if audio is None:
        return Heard(None)
    started = time.perf_counter()
    answers = list(ask.answers)
    if uses_callback_classifier(answers):
        _, transcription = await robot.asr.classify(audio)
    else:
        transcription = await robot.asr.score(audio, scoring_candidates(answers), kind="survey")
    found = classify_closed(transcription, answers)
    text = clean(transcription.text)
    turn.update(heard_s=audio.size / SAMPLE_RATE, transcript=text, answer=found.answer,
                reason=found.reason, asr_s=time.perf_counter() - started)
    result.answer_end = ended
    return Heard(found.answer, text)

