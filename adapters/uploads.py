"""Reading an uploaded file from disk (dispatch catalogue, knowledge base): too large or
unreadable becomes the caller's InvalidInput naming the file, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from domain.errors import InvalidInput, shown

Fail = Callable[[str, str, str], InvalidInput]  # (file name, zh, en) -> the error


def read_upload(path: str | Path, max_bytes: int, fail: Fail) -> tuple[str, bytes]:
    """The file's name and bytes, refusing one over `max_bytes` before reading it."""
    file = Path(path)
    try:
        if file.stat().st_size > max_bytes:
            raise fail(file.name, f"过大（最多 {max_bytes // 1024 // 1024} MB）",
                       f"is too large (max {max_bytes // 1024 // 1024} MB)")
        return file.name, file.read_bytes()
    except OSError as error:
        reason = shown(error.strerror or str(error), 100)
        raise fail(file.name, f"无法读取：{reason}", f"cannot be read: {reason}") from None
