"""Personal-data vault: one Fernet key per citizen (crypto-shredding by deleting the key).

Events carry only the citizen id and one encrypted token; the citizen is found again
by an HMAC of the phone number, so the same caller shares one key across orders.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from adapters.sqldb import SqlDatabase
from domain.ports import PersonalData

KEYS = "rexian_citizen_keys"
META = "rexian_vault_meta"


@dataclass(frozen=True)
class NewCitizenKey:
    """The key row of a caller seen for the first time (a StagedWrite)."""

    vault: SqlVault
    citizen_id: str
    digest: str
    key: bytes

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        # No ON CONFLICT: a concurrent first intake of the same caller must fail this one.
        return [(f"INSERT INTO {KEYS} (citizen_id, phone_digest, key, created_at) "
                 "VALUES (?, ?, ?, ?)",
                 (self.citizen_id, self.digest, self.key.decode(),
                  datetime.now(UTC).isoformat()))]

    def committed(self) -> None:
        self.vault._keys[self.citizen_id] = self.key


class SqlVault:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self._keys: dict[str, bytes] = {}
        with db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {KEYS} (citizen_id TEXT PRIMARY KEY, "
                        "phone_digest TEXT UNIQUE NOT NULL, key TEXT NOT NULL, "
                        "created_at TEXT NOT NULL)")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {META} (name TEXT PRIMARY KEY, "
                        "value TEXT NOT NULL)")
            cur.execute(f"INSERT INTO {META} (name, value) VALUES ('pepper', ?) "
                        "ON CONFLICT (name) DO NOTHING", (secrets.token_hex(32),))
            self._pepper = bytes.fromhex(
                cur.execute(f"SELECT value FROM {META} WHERE name = 'pepper'").fetchone()[0])

    def _digest(self, phone: str) -> str:
        return hmac.new(self._pepper, phone.encode(), hashlib.sha256).hexdigest()

    def seal(self, data: PersonalData) -> tuple[str, str, NewCitizenKey | None]:
        """The citizen's id and sealed token; for a caller the vault does not know yet, the
        new key is a staged write that commits with the intake event (never a key without
        its event, never an event sealed with a key that was not stored: two intakes racing
        on one new caller collide on the digest and the loser retries with the winner's)."""
        digest = self._digest(data.phone)
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT citizen_id, key FROM {KEYS} WHERE phone_digest = ?",
                              (digest,)).fetchone()
        staged = None
        if row is None:
            staged = NewCitizenKey(self, str(uuid.uuid4()), digest, Fernet.generate_key())
            citizen_id, key = staged.citizen_id, staged.key
        else:
            citizen_id, key = row[0], row[1].encode()
            self._keys[citizen_id] = key
        payload = json.dumps({"name": data.name, "phone": data.phone}, ensure_ascii=False)
        return citizen_id, Fernet(key).encrypt(payload.encode()).decode(), staged

    def _key(self, citizen_id: str) -> bytes | None:
        if citizen_id not in self._keys:
            with self.db.transaction(immediate=False) as cur:
                row = cur.execute(f"SELECT key FROM {KEYS} WHERE citizen_id = ?",
                                  (citizen_id,)).fetchone()
            if row is None:
                return None
            self._keys[citizen_id] = row[0].encode()
        return self._keys[citizen_id]

    def open(self, citizen_id: str, token: str) -> PersonalData | None:
        key = self._key(citizen_id)
        if key is None:
            return None
        try:
            data = json.loads(Fernet(key).decrypt(token.encode()))
        except (InvalidToken, ValueError):
            return None
        return PersonalData(name=data["name"], phone=data["phone"])

    def erase(self, citizen_id: str) -> bool:
        """Delete the citizen's key: every token sealed with it becomes unreadable."""
        self._keys.pop(citizen_id, None)
        with self.db.transaction() as cur:
            return cur.execute(f"DELETE FROM {KEYS} WHERE citizen_id = ?",
                               (citizen_id,)).rowcount > 0
