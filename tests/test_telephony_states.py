"""Order states read to citizens: every lifecycle state has its clip, checked at start-up;
an unknown state is an error, never read as 办理中; a sub-state (延期审批中) is heard as
such; a broken prompt set fails at load."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from adapters.bootstrap import build_engine
from adapters.telephony.dialler import engine_progress
from adapters.telephony.prompts import (
    PROMPT_DIR,
    STATE_CLIPS,
    PromptError,
    PromptLibrary,
    check_state_clips,
    lifecycle_states,
)
from domain import lifecycle as lc
from domain.service import SHANGHAI
from domain.values import Actor
from tests.conftest import SimClock
from tests.support.prompts import spelled


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


def test_an_order_awaiting_its_extension_is_heard_as_such(tmp_path: Path) -> None:
    """The progress answer the robot gives comes from the dialler's lookup on the real
    engine: 办理中/延期审批中 is the 延期 clip, and back to 办理中 once approved."""
    clock = SimClock(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    engine = build_engine(str(tmp_path / "r.db"), clock=clock)
    unit, centre = Actor("department", "区城管局"), Actor("dispatcher", "centre")
    try:
        s = engine.service
        ticket = s.intake(channel="电话", category="求助", urgency="一般", region="甬江区",
                          content="路面塌陷", caller_name="赵六", caller_phone="13900000009",
                          actor=Actor("agent", "a1"))
        s.dispatch(ticket, dept="区城管局", assist=[], actor=centre)
        s.sign(ticket, dept="区城管局", actor=unit)
        library, lookup = PromptLibrary.load(), engine_progress(engine)

        def heard() -> list[str]:
            info = lookup(ticket)
            assert info is not None
            return library.progress(ticket, info.state, info.expected).clips

        assert "state_handling" in heard()
        s.request_extension(ticket, dept="区城管局", days=3, reason="需协调", actor=unit)
        said = heard()
        assert "state_extension_pending" in said and "state_handling" not in said
        assert "当前状态：办理中（延期审批中）" in spelled(said)
        s.approve_extension(ticket, note="同意", actor=centre)
        assert "state_handling" in heard()
    finally:
        engine.close()


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
