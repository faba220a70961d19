"""What an attacker holding a store's files finds in their bytes: every Fernet token, every
key-looking string, every wrapped key; and what decrypts with what they hold."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from adapters.keys import FileKeyWrapper

TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]{40,}={0,2}")
# Overlapping: in a row the key's text may directly follow other base64-looking text.
FERNET_KEY = re.compile(rb"(?=([A-Za-z0-9_\-]{43}=))")
WRAPPED = re.compile(rb"kek1:[0-9a-f]{16}:[A-Za-z0-9+/]{80,}")
# base64(nonce 12 + key + tag 16): a Fernet key (44) or the pepper (32); row bytes that
# follow may look like base64 too, so each length is tried.
WRAPPED_LENGTHS = (96, 80)
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def store_bytes(db: Path) -> bytes:
    """The database file and its WAL (and journal), as they are on disk now."""
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-journal"))
                    if p.exists())


def tokens(data: bytes) -> set[bytes]:
    return set(TOKEN.findall(data))


def clear_keys(data: bytes) -> set[bytes]:
    """Strings shaped like Fernet keys (32 bytes, urlsafe base64)."""
    return {k for k in FERNET_KEY.findall(data) if len(base64.urlsafe_b64decode(k)) == 32}


def unwrapped_keys(data: bytes, kek: FileKeyWrapper | None) -> set[bytes]:
    """Every wrapped key in `data` opened with `kek`, tried against every citizen id there."""
    if kek is None:
        return set()
    found = set()
    contexts = {u.decode() for u in UUID.findall(data)}
    prefix = len(b"kek1:") + 17
    candidates = {match[:prefix + n] for match in WRAPPED.findall(data)
                  for n in WRAPPED_LENGTHS}
    for wrapped in candidates:
        for context in contexts:
            try:
                found.add(kek.unwrap(wrapped.decode(), context))
            except ValueError:
                continue
    return found


def decryptable(data: bytes, kek: FileKeyWrapper | None = None,
                extra_keys: Iterable[bytes] = ()) -> list[bytes]:
    """Every plaintext an attacker gets from `data`: its tokens under every key-looking
    string in it, every key the KEK unwraps, and `extra_keys`."""
    keys = clear_keys(data) | unwrapped_keys(data, kek) | set(extra_keys)
    opened = []
    for token in tokens(data):
        for key in keys:
            try:
                opened.append(Fernet(key).decrypt(token))
            except (InvalidToken, ValueError):
                continue
    return opened
