"""The callback robot: one outbound call over WebRTC, from dial to hang-up.

A callback (回访) call goes:

1. dial and hear who answered (``answering.pick_up``, the path campaign calls take too): a
   failed dial is read with its SIP / Q.850 cause and returns at once (空号, 停机, busy; 关机,
   拒接 and 未接通 are no_answer to a work order: ``call_outcomes.CALL_OUTCOME``); an answered
   call is listened to before the robot speaks, and a carrier's recorded announcement
   ("您拨打的号码是空号") is the outcome it names: the robot hangs up without a word;
2. play the question (``prompts.callback_question``: greeting, the request's category,
   "问题已办结，请问您对处理结果满意吗？请回答满意、基本满意或不满意");
3. listen: webrtcvad end-of-speech detection (``media.listen``); nobody speaking within
   ``no_speech_s`` is an unrecognised answer;
4. transcribe and classify on the ASR worker pool (``asr.AsrPool`` → the ASR helper's
   ``classify_answer``). The classifier's intent is used as is: it never returns 满意 or
   基本满意 for a 不满意 answer, and the robot never upgrades an answer;
5. the dialogue policy (``dialogue.CallbackDialogue``): 一般 (还行) → "那您是基本满意吗？" (a
   yes is 基本满意); 未识别 → asked again, more simply ("抱歉，没有听清。满意请说满意，不满意请说
   不满意。"); not understood twice → handed to a person with the transcript, or, when the
   line stayed silent, goodbye with no result (the dialler retries later);
6. a progress query ("查询" + order number, parsed by ``parse_progress_query``) gets the
   number read back digit by digit, the order's state as it is (a sub-state included:
   办理中（延期审批中）, never plain 办理中) and its expected completion date, and then the
   callback question again (one query per call);
7. 满意/基本满意/不满意 → thanks; 转人工 → "正在为您转接人工服务"; then hang up.

The robot only talks; it records nothing. ``CallResult`` says what happened, and the
dialler (``dialler``) turns it into reports for ``adapters.telephony_reports`` after the
call, so robot, gRPC and Kafka results share one idempotent path into the domain.

What is heard is what is audited:

* A reminder call (OutboundCallRequested) says the event's recorded ``script`` and nothing
  else: opening, message, the acknowledgement request where the purpose asks the unit to
  act, and the closing are all in it (``domain.policies.escalation``). The robot says it in
  turns (``script.turns``), listening for "收到" after a turn that ends with the request;
  the clips' manifest texts, joined, are the script (``prompts.script``). A script the clips
  cannot say raises ``UnvoiceableScript`` before anyone is dialled. A script recorded
  before the request and closing were part of it is said as recorded: no request is asked
  (``acknowledged`` stays None) and no goodbye is added.
* A callback (回访) has no recorded script. Its words are the fixed prompt catalogue
  (``tools.prompt_texts.FIXED_CLIPS``; texts in the committed ``prompts/manifest.json``,
  versioned with the code) in the flow above; the only variable words are the request's
  category (recorded at intake) and the progress answer (the number the citizen said, the
  queried order's state and expected date, which its own events hold). The call result
  records the outcome, the answer and the citizen's transcript, not which clips were
  played: an audit can read every sentence a callback can say from the catalogue of the
  deployed commit, but which ones one call said is only in ``CallResult.played`` (logs,
  drills). Recording that would take a field in the telephony report (proto and Avro).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import aiohttp
import numpy as np

from adapters.asr.intent import UNRECOGNIZED, parse_progress_query
from adapters.asr.whisper import Transcription
from adapters.telephony.answering import clean, pick_up
from adapters.telephony.asr import AsrPool
from adapters.telephony.call_outcomes import CALL_OUTCOME
from adapters.telephony.dialogue import (
    HANDOFF_INTENT,
    RESULT_INTENTS,
    CallbackDialogue,
    final_intent,
)
from adapters.telephony.ice import is_loopback_url, loopback_only
from adapters.telephony.media import CallEnded, EndpointSettings, MediaHealth, listen
from adapters.telephony.prompts import PromptLibrary, Utterance
from adapters.telephony.script import UnvoiceableScript, asks_for_ack, turns
from adapters.telephony.signalling import SignallingError
from adapters.telephony.webrtc import CallLeg, CallSetupError

log = logging.getLogger(__name__)

NO_SPEECH_PROB = 0.6
_ACK = re.compile(r"收到|好的|知道|明白|可以|行")


@dataclass(frozen=True)
class ProgressInfo:
    state: str  # the full state (lifecycle.join_state): 办理中_延期审批中, not 办理中
    expected: date | None


ProgressLookup = Callable[[str], ProgressInfo | None]


@dataclass(frozen=True)
class RobotSettings:
    ring_timeout_s: float = 45.0
    answer: EndpointSettings = EndpointSettings()
    ack: EndpointSettings = EndpointSettings(no_speech_s=4.0, max_speech_s=4.0)
    max_reasks: int = 1
    max_queries: int = 1


@dataclass
class CallTask:
    call_id: str
    number: str
    ticket_no: str
    kind: str = "callback"  # callback | reminder
    purpose: str = "回访"
    category: str | None = None
    script: str | None = None  # reminders: the recorded text, said word for word


@dataclass
class Turn:
    prompt: list[str]
    heard_s: float | None  # None: nobody spoke
    transcript: str = ""
    intent: str = UNRECOGNIZED
    reason: str = ""
    query: str | None = None
    asr_s: float = 0.0


@dataclass
class CallResult:
    call_id: str
    number: str
    ticket_no: str
    kind: str
    purpose: str
    outcome: str  # answered | no_answer | busy | 空号 | 停机 | error
    detail: str = ""  # what the outcome was read from (SIP / Q.850 cause, announcement)
    heard: str = ""  # what answered before the robot spoke (a greeting, an announcement)
    intent: str | None = None  # the deciding answer (callbacks)
    transcript: str = ""
    turns: list[Turn] = field(default_factory=list)
    queries: list[dict[str, str | None]] = field(default_factory=list)
    acknowledged: bool | None = None
    answer_end: float | None = None  # time.monotonic() when the deciding answer ended
    hung_up_by: str | None = None
    error: str | None = None
    played: list[str] = field(default_factory=list)
    media: MediaHealth | None = None  # inbound audio's lag: the dialler's overload evidence

    @property
    def result(self) -> str | None:
        """The callback result to record, if any (满意/基本满意/不满意)."""
        return self.intent if self.intent in RESULT_INTENTS else None

    @property
    def handoff(self) -> bool:
        return self.intent == HANDOFF_INTENT


QUERY_CARRIER = "查询工单"
MAX_NEAR = 12
_CN_DIGITS = "零一二三四五六七八九"


def spoken_digits(number: str) -> str:
    """'123' -> '一二三' (how whisper writes a number read digit by digit)."""
    return "".join(_CN_DIGITS[int(d)] for d in number if d.isdigit())


def near_numbers(number: str) -> list[str]:
    """Digit strings one edit away (a digit dropped, inserted or changed), nearest first."""
    seen: dict[str, None] = {}
    for i in range(len(number) + 1):  # a digit the recogniser lost
        for d in "0123456789":
            seen.setdefault(number[:i] + d + number[i:])
    for i in range(len(number)):  # a digit it heard twice, or one it got wrong
        seen.setdefault(number[:i] + number[i + 1:])
        for d in "0123456789":
            seen.setdefault(number[:i] + d + number[i + 1:])
    seen.pop(number, None)
    return [n for n in seen if len(n) >= 4]


class CallbackRobot:
    """Places calls through one media gateway; many calls may run concurrently."""

    def __init__(self, gateway_url: str, asr: AsrPool, *, prompts: PromptLibrary | None = None,
                 progress: ProgressLookup | None = None,
                 settings: RobotSettings = RobotSettings()) -> None:
        self.gateway_url = gateway_url
        self.asr = asr
        self.prompts = prompts or PromptLibrary.load()
        self.progress = progress
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        if is_loopback_url(gateway_url):
            loopback_only()  # never gather or offer anything but 127.0.0.1 for a local gateway

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0))
        return self._session

    async def http(self) -> aiohttp.ClientSession:
        """The HTTP session calls are signalled on (shared by the robot's kinds of call)."""
        return await self._http()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, task: CallTask, *, progress: ProgressLookup | None = None
                   ) -> CallResult:
        """Place one call and hold the conversation; never raises for call failures
        (outcome "error" with ``error`` set when the gateway or the media failed).

        A reminder whose script cannot be voiced raises UnvoiceableScript before dialling:
        nobody is called to hear something other than what was recorded."""
        reminder = self._reminder_turns(task) if task.kind == "reminder" else None
        result = CallResult(task.call_id, task.number, task.ticket_no, task.kind, task.purpose,
                            outcome="error")
        try:
            pickup = await pick_up(self, call_id=task.call_id, number=task.number)
        except (SignallingError, CallSetupError, TimeoutError) as error:
            result.error = str(error)
            log.warning("call %s to %s failed: %s", task.call_id, task.number, error)
            return result
        result.outcome, result.detail = CALL_OUTCOME[pickup.outcome], pickup.detail
        result.heard, result.hung_up_by, result.media = (pickup.heard, pickup.hung_up_by,
                                                         pickup.media)
        leg = pickup.leg
        if leg is None:
            return result
        try:
            if reminder is not None:
                await self._reminder(leg, reminder, result)
            else:
                await self._callback(leg, task, result, progress or self.progress)
            result.hung_up_by = result.hung_up_by or "robot"
        except CallEnded:
            result.hung_up_by = "citizen"
        finally:
            result.media = leg.inbox.health()
            await leg.hangup(notify=result.hung_up_by != "citizen")
        return result

    # ----- conversations ----------------------------------------------------------------
    async def _say(self, leg: CallLeg, utterance: Utterance, result: CallResult) -> None:
        result.played += utterance.clips
        await leg.say(utterance.pcm)
        if leg.remote_hung_up:
            raise CallEnded

    async def _callback(self, leg: CallLeg, task: CallTask, result: CallResult,
                        progress: ProgressLookup | None) -> None:
        prompts = self.prompts
        utterance = prompts.callback_question(task.category)
        dialogue = CallbackDialogue(max_reasks=self.settings.max_reasks)
        queries = 0
        while True:
            await self._say(leg, utterance, result)
            leg.inbox.drain()
            audio, ended = await listen(leg.inbox, self.settings.answer)
            turn = Turn(utterance.clips, None if audio is None else audio.size / 16000)
            result.turns.append(turn)
            if audio is not None:
                started = time.perf_counter()
                intent, transcription = await (self.asr.confirm(audio) if dialogue.confirming
                                               else self.asr.classify(audio))
                turn.transcript, turn.intent, turn.reason = (
                    clean(transcription.text), intent.intent, intent.reason)
                if intent.intent == UNRECOGNIZED and queries < self.settings.max_queries:
                    number = await self._progress_query(audio, transcription, turn,
                                                        progress)
                    if number is not None:
                        queries += 1
                        turn.query = number
                        utterance = prompts.join(self._progress(number, result, progress),
                                                 prompts.ask_again())
                        turn.asr_s = time.perf_counter() - started
                        continue
                turn.asr_s = time.perf_counter() - started
            else:
                turn.reason = "no speech"
            step = dialogue.next_step(turn.intent, spoke=bool(turn.transcript))
            if step.kind == "confirm":
                utterance = prompts.confirm_basic()
                continue
            if step.kind == "reask":
                utterance = prompts.reask()
                continue
            result.intent, result.answer_end = final_intent(step, turn.intent), ended
            result.transcript = turn.transcript
            if step.kind != "record":  # whoever takes over gets the whole conversation
                result.transcript = " / ".join(t.transcript for t in result.turns
                                               if t.transcript)
            if step.kind == "handoff_unclear":
                turn.reason += "; not understood twice: handed to a person"
            await self._say(leg, {"record": prompts.thanks, "handoff": prompts.handoff,
                                  "handoff_unclear": prompts.handoff_unclear,
                                  "give_up": prompts.unrecognized_bye}[step.kind](), result)
            return

    async def _progress_query(self, audio: np.ndarray, transcription: Transcription,
                              turn: Turn, progress: ProgressLookup | None) -> str | None:
        no_speech = transcription.no_speech_prob
        number = parse_progress_query(transcription.text)
        if number is None and (no_speech is None or no_speech < NO_SPEECH_PROB):
            # Transcribe again with the query prompt: the answer prompt bends digits into
            # look-alikes of the expected answers.
            query = await self.asr.transcribe(audio, "query")
            number = parse_progress_query(query.text)
            if number is not None:
                turn.transcript = clean(query.text)
        if number is not None and progress is not None and progress(number) is None:
            number = await self._closest_ticket(audio, number, progress, turn)
        return number

    async def _closest_ticket(self, audio: np.ndarray, heard: str, progress: ProgressLookup,
                              turn: Turn) -> str:
        """The heard number is no order. Orders one digit away from it (a digit lost,
        added or misheard) are scored against the audio with the heard number; the most
        likely one wins. The number is read back either way, so the citizen can tell."""
        near = [n for n in near_numbers(heard) if progress(n) is not None][:MAX_NEAR]
        if not near:
            return heard
        spoken = {n: QUERY_CARRIER + spoken_digits(n) for n in [heard, *near]}
        scored = await self.asr.score(audio, list(spoken.values()))
        best = max(spoken, key=lambda n: scored.scores.get(spoken[n], -math.inf))
        turn.reason += f"; heard {heard}, audio favours {best} among {len(spoken)} numbers"
        return best

    def _progress(self, number: str, result: CallResult,
                  progress: ProgressLookup | None) -> Utterance:
        info = progress(number) if progress else None
        result.queries.append({"ticket_no": number, "state": info.state if info else None,
                               "expected": info.expected.isoformat()
                               if info and info.expected else None})
        return self.prompts.progress(number, info.state if info else None,
                                     info.expected if info else None)

    def _reminder_turns(self, task: CallTask) -> list[Utterance]:
        """The recorded script in its turns, every one voiced before the dial."""
        if not task.script:
            raise UnvoiceableScript(f"reminder {task.call_id} has no recorded script to say")
        return [self.prompts.script(turn) for turn in turns(task.script)]

    async def _reminder(self, leg: CallLeg, said: list[Utterance], result: CallResult
                        ) -> None:
        for utterance in said:
            await self._say(leg, utterance, result)
            if asks_for_ack(utterance.text):
                await self._acknowledgement(leg, utterance, result)

    async def _acknowledgement(self, leg: CallLeg, asked: Utterance, result: CallResult
                               ) -> None:
        leg.inbox.drain()
        audio, ended = await listen(leg.inbox, self.settings.ack)
        turn = Turn(asked.clips, None if audio is None else audio.size / 16000)
        result.turns.append(turn)
        result.acknowledged = False
        if audio is not None:
            started = time.perf_counter()
            transcription = await self.asr.transcribe(audio, "ack")
            turn.asr_s = time.perf_counter() - started
            turn.transcript = result.transcript = clean(transcription.text)
            quiet = (transcription.no_speech_prob or 0.0) >= NO_SPEECH_PROB
            result.acknowledged = bool(_ACK.search(transcription.text)) and not quiet
            result.answer_end = ended


async def gather_calls(robot: CallbackRobot, tasks: list[CallTask]) -> list[CallResult]:
    """Place several calls concurrently (helper for drills and benchmarks)."""
    return list(await asyncio.gather(*(robot.call(t) for t in tasks)))
