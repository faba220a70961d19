"""Campaign calls in `rexian serve`: the campaign desk's placer on the callback Dialler.

``CampaignCaller`` is what ``CampaignDesk.tick`` is given as its placer: the desk records
each dial first (Dialled, with its claim's expiry: domain/campaign/contact.py), then hands
the contact and call id here, and the call runs on the Dialler's event loop behind the
SAME admission control as the satisfaction callbacks (one pool of lines and ASR workers,
one adaptive limit). ``free_slots`` caps each tick's dials by the places the admission
has free, so a campaign never queues more calls than the robot can carry.

What a call comes to is recorded on the contact when it ends:

* an outcome (已接通, 未接通, 忙, 空号, 停机, 关机, 拒接: ``campaign_call``) → record_outcome,
  with the cause or the announcement as its detail;
* the gateway never took the call (unreachable, refused the request), or the call waited
  for a place longer than its claim allows → abandoned: nobody was called, the attempt
  is given back and retried after a back-off;
* what a connected call said and heard (the kind's dialogue: every sentence, survey
  answers, a notification's confirmation, a broadcast's hand-off) → recorded on the
  contact with the outcome, a survey answer matching a [[work_orders]] rule opening a
  work order (``CampaignService.record_outcome``);
* a notification or broadcast with a text message (``--sms``): once the message reached a
  person, the rendered text goes through the SMS port (``CampaignDesk.sms``, by default
  ``adapters.sms.LoggingSms``, which only logs) and Contact.SmsSent records it;
* a message neither the committed clips nor the TTS engine can say → abandoned and the
  campaign paused with the reason (no one is called to hear something else; staff fix
  the message and resume). The message is the campaign's template rendered with the
  contact's own columns (domain/campaign/template.py).

A serve killed mid-call leaves its contacts 呼叫中 with a claim that runs out; whoever
ticks next resolves them (``CampaignDesk.resolve_expired``). An outcome arriving after that
is refused by the contact (its call is no longer in progress) and only logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError

from adapters.campaigns import CampaignDesk, desk
from adapters.telephony.admission import Admission, CallHealth
from adapters.telephony.campaign_call import (
    ERROR,
    CampaignCallResult,
    CampaignCallTask,
    Voice,
    place_campaign_call,
)
from adapters.telephony.robot import CallbackRobot
from adapters.telephony.script import UnvoiceableScript
from domain.campaign.defaults import DEFAULT_LEASE_S
from domain.campaign.dialogue import Said
from domain.campaign.service import opened_variables
from domain.campaign.states import NO_ANSWER
from domain.campaign.template import contact_values, render
from domain.errors import DomainError

if TYPE_CHECKING:
    from datetime import datetime

    from adapters.bootstrap import Engine
    from adapters.telephony.dialler import Dialler
    from domain.campaign.contact import Contact

log = logging.getLogger(__name__)

ERROR_BACKOFF_S = 60.0  # gateway unreachable: the contact is due again this much later
NO_NUMBER_BACKOFF_S = 86400.0  # personal data erased or locked: nothing to dial for a day
HANGUP_MARGIN_S = 15.0  # a call still running this close to its claim's end is cut


class CampaignCaller:
    """The placer ``CampaignDesk.tick`` calls: (contact id, call id) -> a call started."""

    def __init__(self, engine: Engine, dialler: Dialler, *,
                 lease_s: float = DEFAULT_LEASE_S) -> None:
        self.engine = engine
        self.dialler = dialler
        self.desk = desk(engine)
        self.lease_s = lease_s

    @property
    def free_slots(self) -> int:
        return self.dialler.free_slots

    def __call__(self, contact_ref: str, call_id: str) -> None:
        self.dialler.start(f"campaign:{call_id}", campaign_job(
            self.desk, self.dialler.robot, self.dialler.admission, contact_ref, call_id))

    def tick(self) -> dict[str, int]:
        """One scheduling step: at most as many dials as there are free places."""
        return self.desk.tick(self, limit=self.free_slots, lease_s=self.lease_s)


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


async def campaign_job(campaigns: CampaignDesk, robot: CallbackRobot, gate: Admission,
                       contact_ref: str, call_id: str) -> CampaignCallResult | None:
    """One dialled contact: wait for a place, call, record what came of it."""
    service = campaigns.service
    contact = service.contact(contact_ref)
    campaign = service.campaign(contact.campaign_ref)
    data = campaigns.engine.vault.open(contact.citizen_id, contact.personal)
    if data is None or not _digits(data.phone):
        _abandon(campaigns, contact_ref, call_id, "no number: personal data erased or locked",
                 NO_NUMBER_BACKOFF_S)
        return None
    message = render(campaign.message, contact_values(data.name, opened_variables(data)))
    task = CampaignCallTask(call_id, _digits(data.phone), contact_ref, message,
                            kind=campaign.kind, survey=campaign.script,
                            template=campaign.message)
    try:
        if campaign.kind != "survey":
            Voice(robot, task.tts).check(message)
    except UnvoiceableScript as error:
        _abandon(campaigns, contact_ref, call_id, f"message cannot be voiced: {error}",
                 ERROR_BACKOFF_S)
        _pause(campaigns, campaign.ref, f"播报内容无法合成语音 / the message cannot be "
                                        f"voiced: {error}")
        return None
    started = await gate.acquire()
    result: CampaignCallResult | None = None
    try:
        left = _time_left(contact, service.now())
        if left is not None and left <= 0:
            _abandon(campaigns, contact_ref, call_id, "waited for a line until its claim "
                     "nearly ran out; not placed", ERROR_BACKOFF_S)
            return None
        try:
            result = await asyncio.wait_for(place_campaign_call(robot, task), left)
        except TimeoutError:
            result = CampaignCallResult(call_id, task.number, NO_ANSWER,
                                        "call cut: it outlived its claim")
    except Exception:  # noqa: BLE001 - one broken call must not stop the others
        log.exception("campaign call %s to %s failed", call_id, contact_ref)
        _abandon(campaigns, contact_ref, call_id, "the robot failed before the call",
                 ERROR_BACKOFF_S)
        return None
    finally:
        gate.finished(started, _health(result))
    if result.outcome == ERROR:
        _abandon(campaigns, contact_ref, call_id, result.detail, ERROR_BACKOFF_S)
    elif _record(campaigns, contact_ref, call_id, result) and campaign.sms and any(
            isinstance(e, Said) and e.template for e in result.entries):
        # The message reached a person: its text (a link, a date) follows by SMS.
        text = render(campaign.sms, contact_values(data.name, opened_variables(data)))
        try:
            sent = campaigns.sms.send(data.phone, text)
            campaigns.service.record_sms(contact_ref, call_id=call_id, phone=data.phone,
                                         message=sent)
        except (DomainError, IntegrityError, OSError) as error:
            log.warning("campaign call %s to %s: SMS not recorded: %s", call_id, contact_ref,
                        error)
    return result


def _time_left(contact: Contact, now: datetime) -> float | None:
    """Seconds the call may still take: its claim's end less a margin (a fifth of the
    claim, at most HANGUP_MARGIN_S), so it ends before anyone may take it for dead."""
    if contact.lease_until is None or contact.dialled_at is None:
        return None
    claim = (contact.lease_until - contact.dialled_at).total_seconds()
    margin = min(HANGUP_MARGIN_S, claim / 5)
    return (contact.lease_until - now).total_seconds() - margin


def _health(result: CampaignCallResult | None) -> CallHealth:
    if result is None or result.media is None:
        return CallHealth()
    return CallHealth(result.media.stretch, result.media.late_speech, 0.0, int(bool(result.heard)))


def _record(campaigns: CampaignDesk, contact_ref: str, call_id: str,
            result: CampaignCallResult) -> bool:
    try:
        campaigns.service.record_outcome(contact_ref, call_id=call_id, outcome=result.outcome,
                                         detail=result.detail[:500], entries=result.entries)
        return True
    except (DomainError, IntegrityError) as error:  # resolved meanwhile (claim ran out)
        log.warning("campaign call %s to %s: outcome %s not recorded: %s", call_id,
                    contact_ref, result.outcome, error)
        return False


def _abandon(campaigns: CampaignDesk, contact_ref: str, call_id: str, reason: str,
             retry_in_s: float) -> None:
    try:
        campaigns.service.abandon_call(contact_ref, call_id=call_id, reason=reason,
                                       retry_in_s=retry_in_s)
    except (DomainError, IntegrityError) as error:
        log.warning("campaign call %s to %s not abandoned: %s", call_id, contact_ref, error)
    log.warning("campaign call %s to %s not placed: %s", call_id, contact_ref, reason)


def _pause(campaigns: CampaignDesk, ref: str, reason: str) -> None:
    from domain.campaign.service import ENGINE

    try:
        campaigns.service.pause_campaign(ref, reason=reason[:200], actor=ENGINE)
    except (DomainError, IntegrityError) as error:  # paused already, or cancelled
        log.info("campaign %s not paused: %s", ref, error)

