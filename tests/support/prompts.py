"""What the robot's clips say, read from the committed manifest alone (not from the code
that plays them), so a test can spell out what a call said."""

from __future__ import annotations

import json

from adapters.telephony.prompts import PROMPT_DIR

TEXTS: dict[str, str] = {name: entry["text"] for name, entry in json.loads(
    (PROMPT_DIR / "manifest.json").read_text(encoding="utf-8"))["clips"].items()}


def spelled(clips: list[str]) -> str:
    """The manifest texts of ``clips``, joined: what was heard."""
    return "".join(TEXTS[name] for name in clips)
