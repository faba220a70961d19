"""Who answered an outbound call: ONE path for callbacks, reminders and campaign calls.

1. Dial through the media gateway and read a failed dial with its SIP / Q.850 cause
   (``call_outcomes.from_gateway``): 空号, 关机, 忙, 拒接, 未接通, 停机.
2. Answered: listen first, briefly (``OPENING``). Carriers often answer a dead or
   switched-off number themselves and play a recording; a person says "喂" or nothing.
   Whatever is heard is transcribed on the ASR pool with the announcement prompt, the
   carriers' announcements are scored against it, and ``call_outcomes.from_announcement``
   decides: an announcement is the outcome it names, and the robot hangs up without a word.
3. Otherwise the leg is handed back open and the caller's dialogue begins.

Outcomes are the campaign contact's (domain/campaign/states.py), the finer vocabulary; a
callback or reminder reads them through ``call_outcomes.CALL_OUTCOME`` into the work
order's (answered, no_answer, busy, 空号, 停机).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.asr.normalize import normalize_transcript
from adapters.telephony.call_outcomes import ANNOUNCEMENT_TEXTS, from_announcement, from_gateway
from adapters.telephony.media import CallEnded, EndpointSettings, MediaHealth, listen
from adapters.telephony.webrtc import CallLeg, dial_detailed
from domain.campaign.states import CONNECTED

if TYPE_CHECKING:
    from adapters.telephony.robot import CallbackRobot

# A person picking up says "喂" within a second or so, or nothing; an announcement starts
# at once and runs several seconds with pauses between its clauses.
OPENING = EndpointSettings(no_speech_s=1.5, end_silence_s=1.0, max_speech_s=8.0)


def clean(text: str) -> str:
    """A transcript fit for the record: no U+FFFD (whisper's byte-level tokens can split a
    character), no surrounding space."""
    return text.replace("\ufffd", "").strip()


@dataclass
class Pickup:
    outcome: str  # a contact outcome (domain/campaign/states.py)
    detail: str  # what it was read from: the gateway's cause, the announcement heard
    heard: str = ""  # the transcript of what answered (announcement or greeting)
    leg: CallLeg | None = None  # open when a person may be on the line: talk, then hang up
    hung_up_by: str | None = None  # set when the call already ended here
    media: MediaHealth | None = None  # the inbound audio's health, for a call ended here


async def pick_up(robot: CallbackRobot, *, call_id: str, number: str) -> Pickup:
    """Dial ``number`` and hear who answered. Raises what dialling raises (SignallingError,
    CallSetupError, TimeoutError); everything after the answer is handled here: an
    announcement or a hang-up during the opening ends the call (``leg`` None)."""
    response, leg = await dial_detailed(
        await robot.http(), robot.gateway_url, call_id=call_id, number=number,
        ring_timeout_s=robot.settings.ring_timeout_s)
    found = from_gateway(response.outcome, response.sip_status, response.q850_cause)
    if leg is None:
        return Pickup(found.outcome, found.detail)
    pickup = Pickup(CONNECTED, found.detail, leg=leg)
    try:
        audio, _ = await listen(leg.inbox, OPENING)
        leg.inbox.missed_window = False  # silence here is a person waiting, not a late answer
        if audio is not None:
            transcription = await robot.asr.score(audio, list(ANNOUNCEMENT_TEXTS),
                                                  kind="announcement")
            pickup.heard = clean(transcription.text)
            announced = from_announcement(normalize_transcript(transcription.text),
                                          transcription.scores)
            if announced is not None:
                pickup.outcome = announced
                pickup.detail = f"{found.detail}; carrier announcement: {pickup.heard}"
                pickup.hung_up_by = "robot"
    except CallEnded:
        pickup.hung_up_by = "citizen"
        pickup.detail = f"{found.detail}; the callee hung up"
    if pickup.hung_up_by is not None:
        pickup.media = leg.inbox.health()
        pickup.leg = None
        await leg.hangup(notify=pickup.hung_up_by != "citizen")
    return pickup
