"""The key-encryption key (KEK): a key file outside the store that wraps every data key.

The vault stores each citizen's data key and the HMAC pepper only wrapped (AES-256-GCM)
by the KEK, so the database file alone (a copy, a backup, a `pg_dump`) decrypts nothing.
`FileKeyWrapper` keeps the KEK in a file readable by its owner only (0600); a KMS or HSM
client can replace it behind the same port (domain.ports.KeyWrapper).

A wrapped key is text: ``kek1:<fingerprint>:<base64(nonce || ciphertext+tag)>``; the
context (e.g. the citizen id) is the GCM associated data, so a wrapped key moved to
another row does not unwrap. The fingerprint names the KEK without revealing it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.errors import InvalidInput, shown

log = logging.getLogger("rexian.keys")

KEK_ENV = "REXIAN_KEK_FILE"
DEFAULT_KEK = Path("var") / "rexian.kek"  # next to the default store, never inside it
PREFIX = "kek1"
_HEADER = b"rexian-kek-v1 "


class WrongKey(ValueError):
    """A wrapped key that this KEK did not wrap (or that was altered)."""


def kek_path(given: str | os.PathLike[str] | None = None) -> Path:
    """`given` (--kek), $REXIAN_KEK_FILE, or ./var/rexian.kek."""
    text = str(given) if given else os.environ.get(KEK_ENV, "")
    return Path(text) if text.strip() else DEFAULT_KEK


def is_wrapped(value: str) -> bool:
    return value.startswith(PREFIX + ":")


def wrapped_fingerprint(value: str) -> str:
    return value.split(":", 2)[1] if is_wrapped(value) else ""


@dataclass(frozen=True)
class FileKeyWrapper:
    """AES-256-GCM key wrapping under a 32-byte KEK read from a file."""

    path: Path
    kek: bytes

    @property
    def fingerprint(self) -> str:
        # An HMAC under the KEK itself: names it, reveals nothing about it.
        return hmac.new(self.kek, b"rexian kek fingerprint", hashlib.sha256).hexdigest()[:16]

    def wrap(self, key: bytes, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.kek).encrypt(nonce, key, context.encode())
        return f"{PREFIX}:{self.fingerprint}:{base64.b64encode(nonce + sealed).decode()}"

    def unwrap(self, wrapped: str, context: str) -> bytes:
        if not is_wrapped(wrapped) or wrapped_fingerprint(wrapped) != self.fingerprint:
            raise WrongKey("wrapped by another key-encryption key")
        try:
            raw = base64.b64decode(wrapped.split(":", 2)[2], validate=True)
            return AESGCM(self.kek).decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, ValueError) as error:
            raise WrongKey("the wrapped key does not open with this key-encryption key") \
                from error

    # ----- the key file ------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> FileKeyWrapper:
        """The KEK in `path`; InvalidInput naming the file when it is missing or malformed."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InvalidInput("kek", f"密钥加密密钥文件不存在：{shown(str(path), 120)}",
                               f"the key-encryption key file does not exist: "
                               f"{shown(str(path), 120)}") from None
        except OSError as error:
            raise InvalidInput("kek", f"无法读取密钥加密密钥文件 {shown(str(path), 120)}："
                               f"{shown(error, 120)}",
                               f"cannot read the key-encryption key file "
                               f"{shown(str(path), 120)}: {shown(error, 120)}") from None
        try:
            if not data.startswith(_HEADER):
                raise ValueError("header")
            kek = base64.b64decode(data[len(_HEADER):].strip(), validate=True)
            if len(kek) != 32:
                raise ValueError("length")
        except ValueError:
            raise InvalidInput("kek", f"密钥加密密钥文件格式无效：{shown(str(path), 120)}",
                               f"not a Rexian key-encryption key file: "
                               f"{shown(str(path), 120)}") from None
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("key-encryption key %s is readable by others (mode %o): chmod 600 it",
                        path, stat.S_IMODE(mode))
        return cls(path, kek)

    @classmethod
    def create(cls, path: Path) -> FileKeyWrapper:
        """A new random KEK written to `path` with mode 0600 (never over an existing file)."""
        if path == DEFAULT_KEK:
            path.parent.mkdir(parents=True, exist_ok=True)
        kek = secrets.token_bytes(32)
        try:
            write_key_file(path, kek)
        except FileExistsError:
            raise
        except OSError as error:
            raise InvalidInput("kek", f"无法创建密钥加密密钥文件 {shown(str(path), 120)}："
                               f"{shown(error, 120)}",
                               f"cannot create the key-encryption key file "
                               f"{shown(str(path), 120)}: {shown(error, 120)}") from None
        return cls(path, kek)


def write_key_file(path: Path, kek: bytes) -> None:
    """Write a key file atomically-enough: O_EXCL with mode 0600 from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, _HEADER + base64.b64encode(kek) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def rotation_paths(path: Path, now: datetime | None = None) -> tuple[Path, Path]:
    """(the new KEK while a rotation runs, where the old KEK is kept afterwards)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return path.with_name(path.name + ".new"), path.with_name(f"{path.name}.{stamp}.old")
