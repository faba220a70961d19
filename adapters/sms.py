"""The SMS port's default adapter: it only logs (masked number, length, digest), as a centre
without an SMS gateway contract would; a real gateway adapter implements the same port."""

from __future__ import annotations

import hashlib
import logging
import uuid

from domain.phone import mask_phone

log = logging.getLogger("rexian.sms")


class LoggingSms:
    def send(self, phone: str, text: str) -> str:
        message = str(uuid.uuid4())
        log.info("SMS %s to %s: %d characters (sha256 %s), not sent: no SMS gateway is "
                 "configured", message, mask_phone(phone), len(text),
                 hashlib.sha256(text.encode()).hexdigest()[:12])
        return message
