"""One campaign call (外呼任务) over WebRTC: dial, hear who answered, say the message, hang up.

1. dial through the media gateway; a failed dial is read with its SIP / Q.850 cause
   (``call_outcomes.from_gateway``): 空号, 关机, 忙, 拒接, 未接通, 停机;
2. answered: listen first, briefly (``OPENING``). Carriers often answer a dead or
   switched-off number themselves and play a recording; a person says "喂" or nothing.
   Whatever is heard is transcribed on the ASR pool with the announcement prompt, the
   carriers' announcements are scored against it, and ``call_outcomes.from_announcement``
   decides: an announcement is the outcome it names, and the robot hangs up silent;
3. otherwise the campaign's message is said as written, from the committed clips
   (``PromptLibrary.script``: a message the clips cannot say raises UnvoiceableScript
   before anyone is dialled), and the robot hangs up: 已接通.

Like the callback robot, this only talks; ``CampaignCallResult`` says what happened and
the campaign dialler (``campaign_dialler``) records it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from adapters.asr.normalize import normalize_transcript
from adapters.telephony.call_outcomes import (
    ANNOUNCEMENT_TEXTS,
    from_announcement,
    from_gateway,
)
from adapters.telephony.media import CallEnded, EndpointSettings, MediaHealth, listen
from adapters.telephony.robot import CallbackRobot, clean
from adapters.telephony.signalling import SignallingError
from adapters.telephony.webrtc import CallSetupError, dial_detailed
from domain.campaign.states import CONNECTED

log = logging.getLogger(__name__)

# A person picking up says "喂" within a second or so, or nothing; an announcement starts
# at once and runs several seconds with pauses between its clauses.
OPENING = EndpointSettings(no_speech_s=1.5, end_silence_s=1.0, max_speech_s=8.0)
ERROR = "error"


@dataclass
class CampaignCallTask:
    call_id: str
    number: str
    contact_ref: str
    message: str  # said word for word


@dataclass
class CampaignCallResult:
    call_id: str
    number: str
    outcome: str  # a contact outcome (domain/campaign/states.py), or "error"
    detail: str = ""  # the cause, the announcement heard, or what went wrong
    heard: str = ""  # the transcript of what answered (announcement or greeting)
    played: list[str] = field(default_factory=list)
    hung_up_by: str | None = None
    media: MediaHealth | None = None


async def place_campaign_call(robot: CallbackRobot, task: CampaignCallTask
                              ) -> CampaignCallResult:
    """Place one campaign call; never raises for call failures (outcome "error")."""
    utterance = robot.prompts.script(task.message)  # unvoiceable: nobody is dialled
    result = CampaignCallResult(task.call_id, task.number, ERROR)
    try:
        response, leg = await dial_detailed(
            await robot.http(), robot.gateway_url, call_id=task.call_id, number=task.number,
            ring_timeout_s=robot.settings.ring_timeout_s)
    except (SignallingError, CallSetupError, TimeoutError) as error:
        result.detail = str(error)
        log.warning("campaign call %s to %s failed: %s", task.call_id, task.contact_ref, error)
        return result
    found = from_gateway(response.outcome, response.sip_status, response.q850_cause)
    result.outcome, result.detail = found.outcome, found.detail
    if leg is None:
        return result
    try:
        audio, _ = await listen(leg.inbox, OPENING)
        leg.inbox.missed_window = False  # silence here is a person waiting, not a late answer
        if audio is not None:
            transcription = await robot.asr.score(audio, list(ANNOUNCEMENT_TEXTS),
                                                  kind="announcement")
            result.heard = clean(transcription.text)
            announced = from_announcement(normalize_transcript(transcription.text),
                                          transcription.scores)
            if announced is not None:
                result.outcome = announced
                result.detail = f"{found.detail}; carrier announcement: {result.heard}"
                result.hung_up_by = "robot"
                return result
        leg.inbox.drain()
        result.played += utterance.clips
        await leg.say(utterance.pcm)
        result.outcome = CONNECTED
        result.detail = f"{found.detail}; message played"
        result.hung_up_by = "citizen" if leg.remote_hung_up else "robot"
    except CallEnded:
        result.hung_up_by = "citizen"
        result.outcome = CONNECTED
        result.detail = f"{found.detail}; the callee hung up"
    finally:
        result.media = leg.inbox.health()
        await leg.hangup(notify=result.hung_up_by != "citizen")
    return result
