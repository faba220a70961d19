"""One WebRTC call leg: the dialling side (robot) and the answering side (media gateway).

Both sides are aiortc peers with one audio transceiver (sendrecv): a ``PlayerTrack`` to
speak and an ``AudioInbox`` on the remote track to listen. Opus is negotiated (aiortc's
first choice). The configuration has no ICE servers; see ``ice`` for loopback-only tests.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import SessionDescription

from adapters.telephony.ice import rtc_configuration
from adapters.telephony.media import AudioInbox, PlayerTrack
from adapters.telephony.signalling import DialRequest, DialResponse, post_hangup, post_offer

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10.0


class CallSetupError(RuntimeError):
    """The media session could not be established after the callee answered."""


@dataclass
class CallLeg:
    """An established call: speak with ``say``, listen on ``inbox``, end with ``hangup``."""

    call_id: str
    pc: RTCPeerConnection
    player: PlayerTrack
    inbox: AudioInbox
    session: aiohttp.ClientSession | None = None
    gateway_url: str | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def say(self, pcm: np.ndarray) -> None:
        """Play audio and wait until it has been sent (raises nothing if the call ended)."""
        if self.closed.is_set():
            return
        done: asyncio.Future[Any] = self.player.play(pcm)
        ended: asyncio.Future[Any] = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({done, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()

    @property
    def remote_hung_up(self) -> bool:
        return self.closed.is_set() or self.inbox.ended

    async def hangup(self, notify: bool = True) -> None:
        if notify and self.session is not None and self.gateway_url and not self.closed.is_set():
            await post_hangup(self.session, self.gateway_url, self.call_id)
        await self.close()

    async def close(self) -> None:
        self.closed.set()
        self.player.stop()
        await self.inbox.close()
        await self.pc.close()


def negotiated_codec(answer_sdp: str) -> str | None:
    """The audio codec an SDP answer settled on (its first payload type), lower-case."""
    description = SessionDescription.parse(answer_sdp)
    for media in description.media:
        if media.kind == "audio" and media.rtp.codecs:
            return media.rtp.codecs[0].mimeType.split("/")[-1].lower()
    return None


def _watch(pc: RTCPeerConnection, closed: asyncio.Event) -> None:
    @pc.on("connectionstatechange")
    async def on_state() -> None:
        if pc.connectionState in ("failed", "closed"):
            closed.set()


async def _remote_track(pc: RTCPeerConnection, got: asyncio.Future[MediaStreamTrack]) -> None:
    """Register the track handler before the remote description is applied."""

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "audio" and not got.done():
            got.set_result(track)


async def dial(session: aiohttp.ClientSession, gateway_url: str, *, call_id: str, number: str,
               ring_timeout_s: float = 45.0, suppress_silence: bool = True
               ) -> tuple[str, CallLeg | None]:
    """Offer a call to ``number`` through the gateway: (outcome, leg when answered)."""
    response, leg = await dial_detailed(session, gateway_url, call_id=call_id, number=number,
                                        ring_timeout_s=ring_timeout_s,
                                        suppress_silence=suppress_silence)
    return response.outcome, leg


async def dial_detailed(session: aiohttp.ClientSession, gateway_url: str, *, call_id: str,
                        number: str, ring_timeout_s: float = 45.0,
                        suppress_silence: bool = True
                        ) -> tuple[DialResponse, CallLeg | None]:
    """``dial`` with the gateway's whole answer (its SIP / Q.850 cause on a failed call)."""
    pc = RTCPeerConnection(rtc_configuration())
    player = PlayerTrack(suppress_silence=suppress_silence)
    got: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    closed = asyncio.Event()
    try:
        await _remote_track(pc, got)
        _watch(pc, closed)
        pc.addTrack(player)
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription
        response = await post_offer(
            session, gateway_url, DialRequest(call_id=call_id, number=number, sdp=offer.sdp),
            timeout_s=ring_timeout_s)
        if response.outcome != "answered":
            player.stop()
            await pc.close()
            return response, None
        await pc.setRemoteDescription(RTCSessionDescription(sdp=response.sdp or "",
                                                            type=response.type or "answer"))
        player.use_opus(negotiated_codec(response.sdp or "") == "opus")
        track = await asyncio.wait_for(got, CONNECT_TIMEOUT_S)
        await _connected(pc, closed)
    except BaseException:
        player.stop()
        await pc.close()
        raise
    leg = CallLeg(call_id, pc, player, AudioInbox(track), session, gateway_url, closed)
    return response, leg


async def _connected(pc: RTCPeerConnection, closed: asyncio.Event) -> None:
    deadline = asyncio.get_running_loop().time() + CONNECT_TIMEOUT_S
    while pc.connectionState != "connected":
        if closed.is_set() or asyncio.get_running_loop().time() > deadline:
            raise CallSetupError(f"media session not connected ({pc.connectionState})")
        await asyncio.sleep(0.01)


async def answer(offer_sdp: str, *, call_id: str, suppress_silence: bool = True,
                 level_only: bool = False) -> tuple[CallLeg, str]:
    """The gateway side: accept an offer; returns the leg (media flows once ICE connects)
    and the SDP answer to send back."""
    pc = RTCPeerConnection(rtc_configuration())
    player = PlayerTrack(suppress_silence=suppress_silence)
    got: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    closed = asyncio.Event()
    try:
        await _remote_track(pc, got)
        _watch(pc, closed)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        pc.addTrack(player)  # reuses the offered audio transceiver: sendrecv
        await pc.setLocalDescription(await pc.createAnswer())
        player.use_opus(negotiated_codec(pc.localDescription.sdp) == "opus")
        track = await asyncio.wait_for(got, CONNECT_TIMEOUT_S)
    except BaseException:
        player.stop()
        await pc.close()
        raise
    leg = CallLeg(call_id, pc, player, AudioInbox(track, level_only=level_only), closed=closed)
    return leg, pc.localDescription.sdp
