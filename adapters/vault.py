"""Personal-data vault: one Fernet key per citizen (crypto-shredding by deleting the key).

Events carry only the citizen id and one encrypted token; the citizen is found again
by an HMAC of the phone number, so the same caller shares one key across orders.

Envelope encryption: the data keys and the HMAC pepper are stored only wrapped by the
key-encryption key (domain.ports.KeyWrapper, a key file outside the store), so the
database alone decrypts nothing. Without the KEK (or with the wrong one) the vault is
*locked*: the store works, personal data shows as unavailable, intake and erasure are
refused. A store whose keys are still in clear (before envelope encryption) is wrapped
on its first open with a KEK, once, in one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from adapters.keys import (
    FileKeyWrapper,
    is_wrapped,
    kek_path,
    rotation_paths,
    wrapped_fingerprint,
)
from adapters.sqldb import SqlDatabase
from domain.errors import DomainError, PersonalDataUnavailable, shown
from domain.ports import ERASED, UNAVAILABLE, KeyWrapper, PersonalData

log = logging.getLogger("rexian.vault")

KEYS = "rexian_citizen_keys"
META = "rexian_vault_meta"
PEPPER = "pepper_wrapped"
LEGACY_PEPPER = "pepper"  # the pepper in clear, before envelope encryption
FINGERPRINT = "kek_fingerprint"
PEPPER_CONTEXT = "rexian vault pepper"


@dataclass(frozen=True)
class NewCitizenKey:
    """The key row of a caller seen for the first time (a StagedWrite)."""

    vault: SqlVault
    citizen_id: str
    digest: str
    key: bytes
    wrapped: str

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        # No ON CONFLICT: a concurrent first intake of the same caller must fail this one.
        return [(f"INSERT INTO {KEYS} (citizen_id, phone_digest, key, created_at) "
                 "VALUES (?, ?, ?, ?)",
                 (self.citizen_id, self.digest, self.wrapped, datetime.now(UTC).isoformat()))]

    def committed(self) -> None:
        self.vault._keys[self.citizen_id] = self.key


@dataclass(frozen=True)
class ShredKey:
    """Deleting a citizen's key row (a StagedWrite that commits with the Erased events)."""

    vault: SqlVault
    citizen_id: str

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        # The recorder's connection runs this: zero the deleted row there too.
        pragma = [] if self.vault.db.postgres else [("PRAGMA secure_delete = ON", ())]
        return [*pragma, (f"DELETE FROM {KEYS} WHERE citizen_id = ?", (self.citizen_id,))]

    def committed(self) -> None:
        self.vault._keys.pop(self.citizen_id, None)
        self.vault.db.checkpoint()  # the page images holding the key leave the WAL


class SqlVault:
    def __init__(self, db: SqlDatabase, wrapper: KeyWrapper | None,
                 problem: tuple[str, str] | None = None, *, tables: bool = True) -> None:
        """`wrapper` None: a locked vault, `problem` saying why (zh, en); `tables`: create
        the vault's tables first (open_vault already did)."""
        self.db = db
        self._keys: dict[str, bytes] = {}
        self._wrapper = wrapper
        self._pepper: bytes | None = None
        self.problem = problem
        if tables:
            create_tables(db)
        if wrapper is not None:
            try:
                self._pepper = self._adopt(wrapper)
            except PersonalDataUnavailable as error:
                self._wrapper, self.problem = None, (error.reason_zh, error.reason_en)

    # ----- opening: fingerprint check, one-time migration ---------------------------------
    def _adopt(self, wrapper: KeyWrapper) -> bytes:
        """Check `wrapper` is the store's KEK and return the pepper. A store without a KEK
        adopts this one: what is still in clear is wrapped, in one transaction. Once the
        fingerprint is recorded every key is wrapped, so later opens only read the meta
        rows (no write transaction, no scan of the keys)."""
        with self.db.transaction(immediate=False) as cur:
            meta = dict(cur.execute(f"SELECT name, value FROM {META}").fetchall())
        if meta.get(FINGERPRINT) is None or PEPPER not in meta:
            meta = self._migrate(wrapper)
        recorded, wrapped = meta[FINGERPRINT], meta[PEPPER]
        if recorded != wrapper.fingerprint:
            raise PersonalDataUnavailable(*_mismatch(recorded, wrapper.fingerprint))
        try:
            return wrapper.unwrap(wrapped, PEPPER_CONTEXT)
        except ValueError:
            raise PersonalDataUnavailable(*_mismatch(wrapped_fingerprint(wrapped),
                                                     wrapper.fingerprint)) from None

    def _migrate(self, wrapper: KeyWrapper) -> dict[str, str]:
        """Adopt `wrapper` (new store, or keys from before envelope encryption): pepper and
        data keys wrapped, the fingerprint recorded, in one write transaction."""
        migrated = 0
        with self.db.transaction() as cur:
            meta = dict(cur.execute(f"SELECT name, value FROM {META}").fetchall())
            recorded = meta.get(FINGERPRINT)
            if recorded is not None and recorded != wrapper.fingerprint:
                raise PersonalDataUnavailable(*_mismatch(recorded, wrapper.fingerprint))
            if recorded is not None and PEPPER in meta:
                return meta  # another process adopted this KEK meanwhile
            if PEPPER not in meta:
                clear = meta.get(LEGACY_PEPPER)
                pepper = bytes.fromhex(clear) if clear else secrets.token_bytes(32)
                meta[PEPPER] = wrapper.wrap(pepper, PEPPER_CONTEXT)
                cur.execute(f"INSERT INTO {META} (name, value) VALUES (?, ?)",
                            (PEPPER, meta[PEPPER]))
                migrated += clear is not None
            cur.execute(f"DELETE FROM {META} WHERE name = ?", (LEGACY_PEPPER,))
            for citizen_id, key in cur.execute(f"SELECT citizen_id, key FROM {KEYS}").fetchall():
                if not is_wrapped(key):
                    cur.execute(f"UPDATE {KEYS} SET key = ? WHERE citizen_id = ?",
                                (wrapper.wrap(key.encode(), citizen_id), citizen_id))
                    migrated += 1
            meta[FINGERPRINT] = meta.get(FINGERPRINT) or wrapper.fingerprint
            cur.execute(f"INSERT INTO {META} (name, value) VALUES (?, ?) "
                        "ON CONFLICT (name) DO NOTHING", (FINGERPRINT, meta[FINGERPRINT]))
        if migrated:
            log.warning("vault: %d key(s) stored in clear are now wrapped by the "
                        "key-encryption key %s", migrated, wrapper.fingerprint)
            self.db.checkpoint()
        return meta

    @property
    def locked(self) -> bool:
        return self._wrapper is None or self._pepper is None

    def _require_open(self) -> tuple[KeyWrapper, bytes]:
        if self._wrapper is None or self._pepper is None:
            zh, en = self.problem or ("未配置密钥加密密钥", "no key-encryption key")
            raise PersonalDataUnavailable(zh, en)
        return self._wrapper, self._pepper

    def _digest(self, phone: str) -> str:
        _, pepper = self._require_open()
        return hmac.new(pepper, phone.encode(), hashlib.sha256).hexdigest()

    # ----- the port -----------------------------------------------------------------------
    def seal(self, data: PersonalData) -> tuple[str, str, NewCitizenKey | None]:
        """The citizen's id and sealed token; for a caller the vault does not know yet, the
        new key is a staged write that commits with the intake event (never a key without
        its event, never an event sealed with a key that was not stored: two intakes racing
        on one new caller collide on the digest and the loser retries with the winner's)."""
        wrapper, _ = self._require_open()
        digest = self._digest(data.phone)
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT citizen_id, key FROM {KEYS} WHERE phone_digest = ?",
                              (digest,)).fetchone()
        staged = None
        if row is None:
            citizen_id, key = str(uuid.uuid4()), Fernet.generate_key()
            staged = NewCitizenKey(self, citizen_id, digest, key, wrapper.wrap(key, citizen_id))
        else:
            citizen_id = row[0]
            opened = self._unwrap(citizen_id, row[1])
            if opened is None:
                raise PersonalDataUnavailable(
                    "该市民的数据密钥无法用当前密钥加密密钥解开",
                    "this citizen's data key does not unwrap with the current KEK")
            key = opened
        sealed: dict[str, Any] = {"name": data.name, "phone": data.phone}
        if data.extra:  # absent otherwise: tokens stay as they were before free-text PII
            sealed["extra"] = list(data.extra)
        payload = json.dumps(sealed, ensure_ascii=False)
        return citizen_id, Fernet(key).encrypt(payload.encode()).decode(), staged

    def _unwrap(self, citizen_id: str, wrapped: str) -> bytes | None:
        if self._wrapper is None:
            return None
        try:
            key = self._wrapper.unwrap(wrapped, citizen_id)
        except ValueError:
            return None
        self._keys[citizen_id] = key
        return key

    def _row(self, citizen_id: str) -> str | None:
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT key FROM {KEYS} WHERE citizen_id = ?",
                              (citizen_id,)).fetchone()
        return None if row is None else str(row[0])

    def _key(self, citizen_id: str) -> bytes | None:
        if citizen_id in self._keys:
            return self._keys[citizen_id]
        wrapped = self._row(citizen_id)
        return None if wrapped is None else self._unwrap(citizen_id, wrapped)

    def open(self, citizen_id: str, token: str) -> PersonalData | None:
        key = self._key(citizen_id)
        if key is None:
            return None
        try:
            data = json.loads(Fernet(key).decrypt(token.encode()))
        except (InvalidToken, ValueError):
            return None
        return PersonalData(name=data["name"], phone=data["phone"],
                            extra=tuple(data.get("extra", ())))

    def seal_values(self, citizen_id: str, values: Sequence[str]) -> str | None:
        self._require_open()
        key = self._key(citizen_id)
        if key is None:
            if self._row(citizen_id) is None:
                return None  # erased: nothing may be sealed for this citizen again
            raise PersonalDataUnavailable(
                "该市民的数据密钥无法用当前密钥加密密钥解开",
                "this citizen's data key does not unwrap with the current KEK")
        payload = json.dumps({"values": list(values)}, ensure_ascii=False)
        return Fernet(key).encrypt(payload.encode()).decode()

    def open_values(self, citizen_id: str, token: str) -> tuple[str, ...] | None:
        key = self._key(citizen_id)
        if key is None:
            return None
        try:
            return tuple(json.loads(Fernet(key).decrypt(token.encode()))["values"])
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None

    def closed_reason(self, citizen_id: str) -> tuple[str, str]:
        if self._row(citizen_id) is None:
            return ERASED, "已删除 / erased"
        zh, en = self.problem or ("数据密钥无法解开", "the data key does not unwrap")
        return UNAVAILABLE, f"不可用：{zh} / unavailable: {en}"

    def phone_digest(self, phone: str) -> str:
        """The keyed digest that finds a (normalised) phone again without storing it: for
        lists of numbers kept apart from any citizen (the campaigns' do-not-call list)."""
        return self._digest(phone)

    def find(self, phone: str) -> str | None:
        digest = self._digest(phone)
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT citizen_id FROM {KEYS} WHERE phone_digest = ?",
                              (digest,)).fetchone()
        return None if row is None else str(row[0])

    def shred(self, citizen_id: str) -> ShredKey:
        self._require_open()
        return ShredKey(self, citizen_id)

    def erase(self, citizen_id: str) -> bool:
        """Delete the citizen's key at once, outside any event (tests, repair tools): the
        Erased events of `rexian erase` commit with ShredKey instead."""
        self._keys.pop(citizen_id, None)
        with self.db.transaction() as cur:
            gone = cur.execute(f"DELETE FROM {KEYS} WHERE citizen_id = ?",
                               (citizen_id,)).rowcount > 0
        self.db.checkpoint()
        return gone

    # ----- administration -----------------------------------------------------------------
    def describe(self) -> str:
        """One line for `serve`: where the KEK is, or why personal data is unavailable."""
        if self.locked:
            return f"UNAVAILABLE ({(self.problem or ('', 'no key-encryption key'))[1]})"
        path = getattr(self._wrapper, "path", None)
        fingerprint = self._wrapper.fingerprint if self._wrapper else ""
        return f"key-encryption key {path or 'KMS'} ({fingerprint})"

    def status(self) -> dict[str, Any]:
        with self.db.transaction(immediate=False) as cur:
            keys = int(cur.execute(f"SELECT COUNT(*) FROM {KEYS}").fetchone()[0])
            row = cur.execute(f"SELECT value FROM {META} WHERE name = ?",
                              (FINGERPRINT,)).fetchone()
        return {"locked": self.locked, "problem": " / ".join(self.problem) if self.problem
                and self.locked else None, "store_fingerprint": row[0] if row else None,
                "kek_fingerprint": self._wrapper.fingerprint if self._wrapper else None,
                "data_keys": keys}

    def rewrap(self, new: KeyWrapper) -> int:
        """Rewrap the pepper and every data key under `new`, in one transaction (no event
        changes: the data keys themselves stay); returns how many data keys."""
        old, pepper = self._require_open()
        count = 0
        with self.db.transaction() as cur:
            recorded = cur.execute(f"SELECT value FROM {META} WHERE name = ?",
                                   (FINGERPRINT,)).fetchone()
            if recorded is None or recorded[0] != old.fingerprint:
                raise PersonalDataUnavailable(*_mismatch(recorded[0] if recorded else "",
                                                         old.fingerprint))
            for citizen_id, wrapped in cur.execute(
                    f"SELECT citizen_id, key FROM {KEYS}").fetchall():
                try:
                    key = old.unwrap(wrapped, citizen_id)
                except ValueError:
                    raise PersonalDataUnavailable(
                        f"市民 {shown(citizen_id)} 的数据密钥无法用当前密钥加密密钥解开，未轮换",
                        f"the data key of citizen {shown(citizen_id)} does not unwrap with "
                        "the current KEK; nothing rotated") from None
                cur.execute(f"UPDATE {KEYS} SET key = ? WHERE citizen_id = ?",
                            (new.wrap(key, citizen_id), citizen_id))
                count += 1
            cur.execute(f"UPDATE {META} SET value = ? WHERE name = ?",
                        (new.wrap(pepper, PEPPER_CONTEXT), PEPPER))
            cur.execute(f"UPDATE {META} SET value = ? WHERE name = ?",
                        (new.fingerprint, FINGERPRINT))
        self._wrapper = new
        self.db.checkpoint()  # the old wrapped bytes leave the WAL
        return count


def create_tables(db: SqlDatabase) -> None:
    with db.transaction() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {KEYS} (citizen_id TEXT PRIMARY KEY, "
                    "phone_digest TEXT UNIQUE NOT NULL, key TEXT NOT NULL, "
                    "created_at TEXT NOT NULL)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {META} (name TEXT PRIMARY KEY, "
                    "value TEXT NOT NULL)")


def _mismatch(recorded: str, given: str) -> tuple[str, str]:
    return (f"密钥加密密钥与事件库不匹配（事件库指纹 {shown(recorded)}，密钥文件指纹 "
            f"{shown(given)}）",
            f"the key-encryption key does not match the store (store fingerprint "
            f"{shown(recorded)}, key file fingerprint {shown(given)})")


def _store_fingerprint(db: SqlDatabase) -> str | None:
    with db.transaction(immediate=False) as cur:
        row = cur.execute(f"SELECT value FROM {META} WHERE name = ?",
                          (FINGERPRINT,)).fetchone()
    return None if row is None else str(row[0])


def open_vault(db: SqlDatabase, kek_file: str | Path | None = None) -> SqlVault:
    """The vault of `db` with its KEK file (`kek_file`, $REXIAN_KEK_FILE, ./var/rexian.kek).

    A store that has no KEK yet (new, or keys in clear) gets one: the file is created
    (0600) and a warning says where. A store with a KEK and no (or another) file opens
    locked. A rotation interrupted after its commit is finished here (the `.new` file)."""
    create_tables(db)
    path = kek_path(kek_file)
    recorded = _store_fingerprint(db)
    pending, _ = rotation_paths(path)
    try:
        if recorded is None and not path.exists():
            try:
                wrapper = FileKeyWrapper.create(path)
                log.warning("created the key-encryption key %s (mode 0600): keep it, and its "
                            "backups, apart from the store's", path)
            except FileExistsError:  # another process created it a moment ago
                wrapper = FileKeyWrapper.load(path)
        elif path.exists():
            wrapper = FileKeyWrapper.load(path)
        elif pending.exists():
            wrapper = _finish_rotation(path, pending, recorded, replace_current=False)
        else:
            wrapper = FileKeyWrapper.load(path)  # raises: the file is missing
        if recorded is not None and wrapper.fingerprint != recorded and pending.exists():
            wrapper = _finish_rotation(path, pending, recorded, replace_current=True)
    except DomainError as error:
        log.warning("vault locked: %s", error.en)
        return SqlVault(db, None, (error.zh, error.en), tables=False)
    return SqlVault(db, wrapper, tables=False)


def _finish_rotation(path: Path, pending: Path, recorded: str | None,
                     replace_current: bool) -> FileKeyWrapper:
    """The store was rewrapped under `pending` but the process stopped before the files
    were swapped: swap them now (keeping the current file as the timestamped backup)."""
    candidate = FileKeyWrapper.load(pending)
    if candidate.fingerprint != recorded:
        return FileKeyWrapper.load(path)
    _, backup = rotation_paths(path)
    if replace_current:
        path.rename(backup)
    pending.rename(path)
    log.warning("finished an interrupted key rotation: %s is the key-encryption key", path)
    return FileKeyWrapper(path, candidate.kek)


def rotate(vault: SqlVault, make: Callable[[Path], FileKeyWrapper] = FileKeyWrapper.create
           ) -> dict[str, Any]:
    """`rexian keys rotate`: a new KEK file, every data key rewrapped under it in one
    transaction, the old file kept as <name>.<UTC timestamp>.old. The new file is written
    (and synced) before the store commits, so a crash leaves a usable pair."""
    if not isinstance(vault._wrapper, FileKeyWrapper):
        vault._require_open()
        raise PersonalDataUnavailable("密钥加密密钥不是密钥文件", "the KEK is not a key file")
    old = vault._wrapper
    pending, backup = rotation_paths(old.path)
    pending.unlink(missing_ok=True)  # a leftover of a rotation that never committed
    new = make(pending)
    try:
        count = vault.rewrap(new)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    old.path.rename(backup)
    pending.rename(old.path)
    vault._wrapper = FileKeyWrapper(old.path, new.kek)
    return {"kek_file": str(old.path), "old_kek_backup": str(backup),
            "old_fingerprint": old.fingerprint, "fingerprint": new.fingerprint,
            "rewrapped_keys": count}
