"""Reading a settings file (TOML) with refusals that name the file and the problem."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput, shown


def read_toml(path: Path, error: Callable[[str, str], InvalidInput]) -> dict[str, Any]:
    """The TOML document at `path`; unreadable or malformed raises `error(zh, en)`."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as failure:
        raise error(f"无法读取 {shown(str(path), 80)}（{failure.strerror}）",
                    f"cannot read {shown(str(path), 80)} ({failure.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as failure:
        raise error(f"{shown(str(path), 80)} 不是有效的 TOML：{shown(failure, 200)}",
                    f"{shown(str(path), 80)} is not valid TOML: {shown(failure, 200)}") from None
