"""Order states read to citizens: every lifecycle state has its clip, checked at start-up;
an unknown state is an error, never read as 办理中; a broken prompt set fails at load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adapters.telephony.prompts import (
    PROMPT_DIR,
    STATE_CLIPS,
    PromptError,
    PromptLibrary,
    check_state_clips,
    lifecycle_states,
)
from domain import lifecycle as lc


def test_every_lifecycle_state_has_its_own_clip() -> None:
    states = lifecycle_states()
    assert set(lc.LEAF_STATES) <= states and {lc.HANDLING, lc.ARCHIVED} <= states
    assert set(STATE_CLIPS) == states
    library = PromptLibrary.load()
    for state in states:
        said = library.progress("1", state, None)
        top, sub = lc.split_state(state)
        assert top in said.text and (sub is None or sub in said.text or sub == lc.WORKING)
    assert library.progress("1", lc.ARCHIVED, None).clips[-1] == "state_archived"


def test_a_state_without_a_clip_is_an_error_at_start_up() -> None:
    check_state_clips()  # the committed mapping passes (prompts.py runs this at import)
    without = {s: c for s, c in STATE_CLIPS.items() if s != lc.TRANSFERRED}
    with pytest.raises(PromptError, match=lc.TRANSFERRED):
        check_state_clips(without)
    with pytest.raises(PromptError, match="已作废"):
        check_state_clips({**STATE_CLIPS, "已作废": "state_handling"})


def test_an_unknown_state_at_run_time_raises_instead_of_saying_handling() -> None:
    library = PromptLibrary.load()
    with pytest.raises(PromptError, match="已作废"):
        library.progress("123", "已作废", None)


def _copy_prompts(tmp_path: Path) -> Path:
    directory = tmp_path / "prompts"
    shutil.copytree(PROMPT_DIR, directory)
    return directory


def test_a_manifest_entry_without_its_audio_is_an_error_at_load(tmp_path: Path) -> None:
    directory = _copy_prompts(tmp_path)
    (directory / "state_merged.ogg").unlink()
    with pytest.raises(PromptError, match="state_merged"):
        PromptLibrary.load(directory)


def test_a_clip_the_code_needs_missing_from_the_manifest_is_an_error_at_load(
    tmp_path: Path,
) -> None:
    directory = _copy_prompts(tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    del manifest["clips"]["hour_08"]
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False),
                                             encoding="utf-8")
    with pytest.raises(PromptError, match="hour_08"):
        PromptLibrary.load(directory)
