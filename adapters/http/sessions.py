"""Who is asking: a bearer token (programs) or a console session (people).

A person pastes the staff token `rexian token issue` gave them into the login page; the
server keeps the token in memory under a random session id and sets that id as an HttpOnly,
SameSite=Strict cookie. The token never travels in a URL and no script can read it. Every
request authenticates the token again (AccessControl caches it for a few seconds), so a
revocation or an expiry ends the session too.

CSRF: the console's only commands are the order page's 派单 and 并单 (adapters/http/app.py),
besides logging in and out. Every one is a POST that must carry JSON (a cross-site form
cannot send that content type without a preflight the server never answers) and, except
login, the session's own CSRF value in a header (a bearer token's request needs none).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Final

COOKIE: Final = "rexian_session"
CSRF_HEADER: Final = "x-csrf-token"
# A console session lasts a shift at most; the token's own expiry may end it sooner.
SESSION_SECONDS: Final = 12 * 3600


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str
    expires: float


class Sessions:
    """Server-side sessions in memory (a restart logs everyone out)."""

    def __init__(self, lifetime: float = SESSION_SECONDS) -> None:
        self.lifetime = lifetime
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, token: str) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(token, secrets.token_urlsafe(24), time.monotonic() + self.lifetime)
        with self._lock:
            self._by_id[sid] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._by_id.get(sid)
            if session is not None and session.expires < time.monotonic():
                del self._by_id[sid]
                return None
            return session

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, token = (header or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
