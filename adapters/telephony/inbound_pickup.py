"""Inbound calls in `rexian serve`: pick up the callers waiting at the media gateway.

Each serve tick claims as many waiting calls as the dialler has free places (the gateway
hands each call out once, so several serves on one gateway never pick up the same caller:
``signalling.claim_incoming``) and the inbound robot answers them on the dialler's loop,
beside the callbacks and campaign calls and counted against the same places. A gateway
without inbound lines answers 404 once and is not asked again; one that cannot be reached
is asked again on the next tick.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import aiohttp

from adapters.inbound.desk import InboundDesk
from adapters.telephony.inbound_robot import InboundRobot, InboundTask
from adapters.telephony.signalling import IncomingCall, SignallingError, claim_incoming

if TYPE_CHECKING:
    from adapters.bootstrap import Engine
    from adapters.telephony.dialler import Dialler

log = logging.getLogger(__name__)
CLAIM_TIMEOUT_S = 10.0


class InboundPickup:
    def __init__(self, engine: Engine, dialler: Dialler, *,
                 robot: InboundRobot | None = None) -> None:
        self.dialler = dialler
        self.robot = robot or InboundRobot(dialler.robot.gateway_url, dialler.robot.asr,
                                           InboundDesk(engine))
        self.enabled = True
        self._session: aiohttp.ClientSession | None = None

    async def _claim(self, limit: int) -> list[IncomingCall] | None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return await claim_incoming(self._session, self.robot.gateway_url, limit)

    def poll(self) -> list[str]:
        """Claim the waiting calls the free places allow and start answering them;
        returns the call ids picked up."""
        slots = self.dialler.free_slots
        if not self.enabled or slots == 0:
            return []
        try:
            waiting = self.dialler.run(self._claim(slots), CLAIM_TIMEOUT_S)
        except (SignallingError, TimeoutError) as error:
            log.warning("inbound calls: %s", error)
            return []
        if waiting is None:
            self.enabled = False
            log.info("the gateway has no inbound lines: inbound robot off")
            return []
        return [self.dialler.start(f"inbound:{call.call_id}", self.robot.answer(
            InboundTask(call.call_id, call.caller, call.line))) for call in waiting]

    async def _close(self) -> None:
        await self.robot.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def close(self) -> None:
        """Before the dialler closes."""
        self.dialler.run(self._close(), CLAIM_TIMEOUT_S)
