"""What an outbound call came to, from what the network said: ONE table.

The media gateway answers a dial with an outcome word (``signalling.OUTCOMES``) and, on a
failed call, may add the network's own reason: the SIP final response status and/or the
Q.850 cause of the ISDN/SS7 release. Those are more precise than the word (a gateway
reports 480 and 486 alike as "no answer" when it knows no better), so they are read
first, the Q.850 cause before the SIP status (it comes from the far end; SIP statuses
are sometimes rewritten by intermediate proxies). Where the carrier answers the call and
plays a recorded announcement instead ("您拨打的号码是空号", "已停机", "已关机"), the gateway
sees an answered call: the robot listens before it speaks, and the announcement's
announcement is recognised by ``from_announcement``.

Choices (standard meanings in RFC 3261 §21 and ITU-T Q.850; the Chinese carriers'
usage as observed on their gateways):

* 404 / 410 / 484 / 604, Q.850 1 (unallocated number), 22 (number changed), 28 (invalid
  number format) → 空号: the number does not exist; flagged, never called again;
* 480 (temporarily unavailable), Q.850 18 (no user responding: the handset did not answer
  paging) and 20 (subscriber absent) → 关机: switched off or out of coverage, retried later;
* 486 / 600, Q.850 17 (user busy) → 忙;
* 603, Q.850 21 (call rejected) → 拒接;
* 408 / 487, Q.850 19 (no answer from user, alerted) → 未接通;
* Q.850 54 (incoming calls barred) → 停机: a suspended line bars incoming calls; there is no
  SIP status for it, carriers announce it instead.

Anything not in the table falls back to the outcome word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.campaign.states import (
    BUSY,
    CONNECTED,
    NO_ANSWER,
    POWERED_OFF,
    REJECTED,
    SUSPENDED,
    VACANT,
)

# The gateway's outcome word -> the contact's outcome.
BY_WORD: dict[str, str] = {"answered": CONNECTED, "no_answer": NO_ANSWER, "busy": BUSY,
                           "空号": VACANT, "停机": SUSPENDED}
BY_SIP: dict[int, str] = {404: VACANT, 410: VACANT, 484: VACANT, 604: VACANT,
                          480: POWERED_OFF, 486: BUSY, 600: BUSY, 603: REJECTED,
                          408: NO_ANSWER, 487: NO_ANSWER}
BY_Q850: dict[int, str] = {1: VACANT, 22: VACANT, 28: VACANT, 18: POWERED_OFF, 20: POWERED_OFF,
                           17: BUSY, 21: REJECTED, 19: NO_ANSWER, 54: SUSPENDED}
# A contact outcome -> the work order's dial outcome (domain/values.py CALL_OUTCOMES) for a
# callback or reminder: the order knows only whether to retry (no_answer, busy) or to stop
# (空号, 停机); switched off and rejected are retried later, as an unanswered call is.
CALL_OUTCOME: dict[str, str] = {CONNECTED: "answered", NO_ANSWER: "no_answer",
                                POWERED_OFF: "no_answer", REJECTED: "no_answer",
                                BUSY: "busy", VACANT: "空号", SUSPENDED: "停机"}
# The carriers' recorded announcements, as said: each is scored against what answered the
# call (whisper's log-probability of the whole text) and the best one names the outcome.
ANNOUNCEMENT_TEXTS: dict[str, str] = {
    "您拨打的号码是空号，请查证后再拨": VACANT, "您拨打的号码是空号": VACANT,
    "您拨打的电话已停机": SUSPENDED, "您拨打的用户已停机": SUSPENDED,
    "您拨打的电话已关机": POWERED_OFF, "您拨打的用户已关机": POWERED_OFF,
    "您拨打的用户暂时无法接通，请稍后再拨": POWERED_OFF,
}
# Whether it was a recording at all is read from the transcript: the carriers' phrasing,
# never said by a person picking up (scores alone cannot tell: a short "喂，你好" scores
# about as low against every announcement as a long announcement against its own text).
CARRIER_PHRASES = re.compile(r"拨打的|无法接通|空号|停机|关机|查证后|稍后再拨|不在服务区")
# Without scores (the scorer unavailable): the transcript's words, tried in this order
# (停机 and 关机 announcements also say "无法接通", so they come before it).
ANNOUNCEMENT_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"空号|号码不存在|查证后再拨"), VACANT),
    (re.compile(r"停机|已暂停服务|欠费"), SUSPENDED),
    (re.compile(r"关机|无法接通|不在服务区"), POWERED_OFF),
)


@dataclass(frozen=True)
class Outcome:
    outcome: str  # a contact outcome (domain/campaign/states.py OUTCOMES)
    detail: str  # what it was read from, for the record (CallEnded.detail)


def from_gateway(word: str, sip_status: int | None = None,
                 q850_cause: int | None = None) -> Outcome:
    """The outcome of a dial from the gateway's answer (cause first, then the word)."""
    if q850_cause is not None and q850_cause in BY_Q850:
        return Outcome(BY_Q850[q850_cause], _detail(word, sip_status, q850_cause))
    if sip_status is not None and sip_status in BY_SIP:
        return Outcome(BY_SIP[sip_status], _detail(word, sip_status, q850_cause))
    if word not in BY_WORD:
        raise ValueError(f"unknown gateway outcome {word!r}")
    return Outcome(BY_WORD[word], _detail(word, sip_status, q850_cause))


def from_announcement(transcript: str, scores: dict[str, float] | None = None) -> str | None:
    """The outcome a carrier announcement says, or None when a person answered.

    ``transcript`` is normalised (adapters/asr/normalize.py); ``scores`` are the
    ANNOUNCEMENT_TEXTS' log-probabilities against the same audio, when the recogniser
    could score them. Whisper hears "已停机" as "与停心" as often as right, but the closed
    set of announcements, scored against the audio, puts the right one first."""
    if not CARRIER_PHRASES.search(transcript):
        return None
    known = {text: score for text, score in (scores or {}).items()
             if text in ANNOUNCEMENT_TEXTS}
    if known:
        return ANNOUNCEMENT_TEXTS[max(known, key=lambda text: known[text])]
    for pattern, outcome in ANNOUNCEMENT_WORDS:
        if pattern.search(transcript):
            return outcome
    return None


def _detail(word: str, sip_status: int | None, q850_cause: int | None) -> str:
    parts = [f"gateway {word}"]
    if sip_status is not None:
        parts.append(f"SIP {sip_status}")
    if q850_cause is not None:
        parts.append(f"Q.850 {q850_cause}")
    return ", ".join(parts)
