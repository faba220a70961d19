"""ICE settings for the robot and the simulated gateway.

Two adjustments make aiortc work on loopback without any STUN server (stack notes):

* ``RTCConfiguration(iceServers=[])``: aiortc's default configuration uses a public STUN
  server, which must never be contacted (no network here, and tests must stay local);
* host candidates on 127.0.0.1: aioice skips the loopback address when it gathers host
  candidates, so with ``loopback_only()`` in force its address discovery is replaced by one
  that offers 127.0.0.1 only. That is process-wide (aioice has no per-connection hook): the
  robot enables it when its gateway is on a loopback address, tests and drills always do.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlparse

import aioice.ice
from aiortc import RTCConfiguration

_original_host_addresses: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses


def _loopback_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return ["127.0.0.1"] if use_ipv4 else []


def loopback_only(enabled: bool = True) -> None:
    """Gather ICE host candidates on 127.0.0.1 only (True) or on every interface (False)."""
    chosen = _loopback_addresses if enabled else _original_host_addresses
    aioice.ice.get_host_addresses = chosen  # type: ignore[assignment]


def is_loopback_only() -> bool:
    return aioice.ice.get_host_addresses is _loopback_addresses


def rtc_configuration() -> RTCConfiguration:
    """No STUN/TURN servers: host candidates only (a SIP/WebRTC gateway on the same network)."""
    return RTCConfiguration(iceServers=[])


def is_loopback_url(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
