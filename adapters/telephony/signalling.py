"""Offer/answer signalling between the robot and a media gateway, over HTTP (JSON).

The robot is a WebRTC peer; the media gateway is the other peer and bridges to the phone
network (in production a SIP/WebRTC gateway behind a thin adapter that speaks this protocol;
in tests and drills the simulated citizens of ``tools.sim_citizen``).

    POST {gateway}/calls            {"call_id", "number", "caller", "sdp", "type": "offer"}
      200 {"call_id", "outcome": "answered", "sdp", "type": "answer"}     the callee picked up
      200 {"call_id", "outcome": "no_answer" | "busy" | "空号" | "停机"}    no media session
          optional on a failed call: "sip_status" (e.g. 404, 480, 486, 603) and
          "q850_cause" (e.g. 1, 17, 19, 21), the network's own reason, which the campaign
          dialler reads before the outcome word (adapters/telephony/call_outcomes.py)
      400 {"error"}                                                         malformed request
    POST {gateway}/calls/{call_id}/hangup        either side may end the call; 200 {"ok"}
    GET  {gateway}/health                        200 {"ok": true}
    POST {gateway}/incoming/claim?max=N          inbound calls waiting for the robot:
      200 {"calls": [{"call_id", "caller", "line"}, ...]}  at most N, each handed out once
          (claimed), so several engines polling one gateway never pick up the same call;
          the robot then takes it with POST /calls {"call_id", "number": caller, ...}
      404                                                   the gateway has no inbound lines

The POST returns once the callee answered or the call failed (ringing is the wait), so the
robot bounds it with its ring timeout. ICE is gathered completely before the offer is sent
(no trickle), and the configuration has no STUN server (see ``ice``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

OUTCOMES = ("answered", "no_answer", "busy", "空号", "停机")
FAILED_OUTCOMES = OUTCOMES[1:]


class SignallingError(RuntimeError):
    """The gateway could not be reached or answered nonsense."""


@dataclass(frozen=True)
class DialRequest:
    call_id: str
    number: str
    sdp: str
    type: str = "offer"
    caller: str = "12345"


@dataclass(frozen=True)
class DialResponse:
    call_id: str
    outcome: str
    sdp: str | None = None
    type: str | None = None
    sip_status: int | None = None
    q850_cause: int | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"call_id": self.call_id, "outcome": self.outcome}
        if self.sdp is not None:
            data.update(sdp=self.sdp, type=self.type or "answer")
        if self.sip_status is not None:
            data["sip_status"] = self.sip_status
        if self.q850_cause is not None:
            data["q850_cause"] = self.q850_cause
        return data


async def post_offer(session: aiohttp.ClientSession, gateway_url: str, request: DialRequest,
                     timeout_s: float) -> DialResponse:
    """Send the offer; the gateway answers when the callee picks up or the call fails."""
    url = gateway_url.rstrip("/") + "/calls"
    body = {"call_id": request.call_id, "number": request.number, "caller": request.caller,
            "sdp": request.sdp, "type": request.type}
    try:
        async with session.post(url, json=body,
                                timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            data = await response.json(content_type=None)
            if response.status != 200:
                raise SignallingError(f"gateway refused the call ({response.status}): "
                                      f"{data.get('error') if isinstance(data, dict) else data}")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise SignallingError(f"gateway {gateway_url} unreachable: {error!r}") from error
    outcome = str(data.get("outcome", ""))
    if outcome not in OUTCOMES:
        raise SignallingError(f"gateway returned unknown outcome {outcome!r}")
    if outcome == "answered" and not data.get("sdp"):
        raise SignallingError("gateway answered without an SDP answer")
    return DialResponse(str(data.get("call_id", request.call_id)), outcome, data.get("sdp"),
                        data.get("type"), _cause(data, "sip_status", 100, 699),
                        _cause(data, "q850_cause", 1, 127))


def _cause(data: dict[str, Any], key: str, low: int, high: int) -> int | None:
    """An optional numeric cause; anything else is nonsense from the gateway."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SignallingError(f"gateway returned an invalid {key} {value!r}")
    return value


async def post_hangup(session: aiohttp.ClientSession, gateway_url: str, call_id: str) -> None:
    url = f"{gateway_url.rstrip('/')}/calls/{quote(call_id, safe='')}/hangup"
    try:
        async with session.post(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
            await response.read()
    except (aiohttp.ClientError, TimeoutError):
        pass  # the media session is closed by the robot anyway


@dataclass(frozen=True)
class IncomingCall:
    """A caller waiting on one of the centre's inbound lines (12345, 96345 …)."""

    call_id: str
    caller: str
    line: str


MAX_CLAIM = 100


async def claim_incoming(session: aiohttp.ClientSession, gateway_url: str, limit: int
                         ) -> list[IncomingCall] | None:
    """Claim up to `limit` waiting inbound calls; None when the gateway has no inbound
    lines (404). Raises SignallingError when it cannot be reached or answers nonsense."""
    url = f"{gateway_url.rstrip('/')}/incoming/claim"
    try:
        async with session.post(url, params={"max": str(max(1, min(limit, MAX_CLAIM)))},
                                timeout=aiohttp.ClientTimeout(total=5)) as response:
            if response.status == 404:
                return None
            if response.status != 200:
                raise SignallingError(f"gateway returned HTTP {response.status} for {url}")
            data = await response.json()
        return [IncomingCall(str(call["call_id"]), str(call["caller"]), str(call["line"]))
                for call in data["calls"]]
    except (aiohttp.ClientError, TimeoutError) as error:
        raise SignallingError(f"cannot reach the gateway at {url}: {error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise SignallingError(f"gateway returned malformed inbound calls: {error}") from None


CallHandler = Callable[[DialRequest], Awaitable[DialResponse]]
HangupHandler = Callable[[str], Awaitable[None]]
ClaimHandler = Callable[[int], list[IncomingCall]]


def gateway_app(on_call: CallHandler, on_hangup: HangupHandler,
                on_claim: ClaimHandler | None = None) -> web.Application:
    """The gateway side of the protocol: an aiohttp app calling the handlers (without
    `on_claim` the gateway has no inbound lines)."""

    async def calls(request: web.Request) -> web.Response:
        try:
            data = await request.json()
            dial = DialRequest(call_id=str(data["call_id"]), number=str(data["number"]),
                               sdp=str(data["sdp"]), type=str(data.get("type", "offer")),
                               caller=str(data.get("caller", "")))
        except (ValueError, KeyError, TypeError) as error:
            return web.json_response({"error": f"malformed call request: {error}"}, status=400)
        if dial.type != "offer" or not dial.number:
            return web.json_response({"error": "expected an SDP offer and a number"}, status=400)
        response = await on_call(dial)
        return web.json_response(response.as_json(), dumps=_dumps)

    async def hangup(request: web.Request) -> web.Response:
        await on_hangup(request.match_info["call_id"])
        return web.json_response({"ok": True})

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def claim(request: web.Request) -> web.Response:
        assert on_claim is not None
        try:
            limit = int(request.query.get("max", "1"))
        except ValueError:
            return web.json_response({"error": "max must be a number"}, status=400)
        waiting = on_claim(max(1, min(limit, MAX_CLAIM)))
        return web.json_response({"calls": [
            {"call_id": c.call_id, "caller": c.caller, "line": c.line} for c in waiting]},
            dumps=_dumps)

    app = web.Application()
    if on_claim is not None:
        app.router.add_post("/incoming/claim", claim)
    app.router.add_post("/calls", calls)
    app.router.add_post("/calls/{call_id}/hangup", hangup)
    app.router.add_get("/health", health)
    return app


def _dumps(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)
