"""Generate the committed ASR test fixtures in tests/fixtures/audio/ (needs espeak-ng and sox).

Speech comes from espeak-ng's Mandarin voice ``cmn-latn-pinyin`` (input is pinyin with tone
digits; the plain ``cmn`` voice reads tone digits as English numbers). Every fixture is 16 kHz
mono s16 WAV with a short lead-in and the trailing silence an endpointer leaves. Variants vary
speed and pitch, some go through a telephone band (8 kHz round trip) and some get white noise
at a fixed SNR, so the tests see more than one clean rendering of each answer.

Tests never call this: fresh machines have no espeak-ng. Run it by hand and commit the output:
``python -m tools.make_audio_fixtures`` (``apt-get install espeak-ng sox`` first).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
VOICE = "cmn-latn-pinyin"
OUT_DIR = Path("tests/fixtures/audio")
LEAD_S = 0.25
TAIL_S = 0.5


@dataclass(frozen=True)
class Fixture:
    name: str
    text: str  # what is said, in characters (documentation for humans)
    pinyin: str  # what espeak-ng reads
    intent: str  # expected answer intent for "请问您对处理结果满意吗？"
    speed: int = 150  # espeak-ng words per minute
    pitch: int = 50  # espeak-ng 0..99
    snr_db: float | None = None  # add white noise at this SNR
    telephone: bool = False  # 8 kHz round trip, like a narrow-band phone line
    ticket: str | None = None  # expected ticket number for progress queries
    role: str = "answer"  # answer | prompt | silence | query
    hiss: bool = False  # silence fixtures only: faint line noise instead of digital zero


FIXTURES: tuple[Fixture, ...] = (
    Fixture("satisfied_1", "满意", "man3 yi4", "满意"),
    Fixture("satisfied_2", "满意", "man3 yi4", "满意", speed=120, pitch=35, telephone=True),
    Fixture("satisfied_3", "满意", "man3 yi4", "满意", speed=175, pitch=70, snr_db=20),
    Fixture("very_satisfied_1", "非常满意", "fei1 chang2 man3 yi4", "满意"),
    Fixture("very_satisfied_2", "非常满意", "fei1 chang2 man3 yi4", "满意", speed=125, pitch=65, snr_db=18),
    Fixture("basically_satisfied_1", "基本满意", "ji1 ben3 man3 yi4", "基本满意"),
    Fixture("basically_satisfied_2", "基本满意", "ji1 ben3 man3 yi4", "基本满意", speed=120, pitch=40, telephone=True),
    Fixture("basically_satisfied_3", "基本满意", "ji1 ben3 man3 yi4", "基本满意", speed=170, pitch=60, snr_db=20),
    Fixture("dissatisfied_1", "不满意", "bu4 man3 yi4", "不满意"),
    Fixture("dissatisfied_2", "不满意", "bu4 man3 yi4", "不满意", speed=120, pitch=30, snr_db=15),
    Fixture("dissatisfied_3", "不满意", "bu4 man3 yi4", "不满意", speed=175, pitch=70, telephone=True),
    Fixture("not_very_satisfied_1", "不太满意", "bu2 tai4 man3 yi4", "不满意"),
    Fixture("not_very_satisfied_2", "不太满意", "bu2 tai4 man3 yi4", "不满意", speed=125, pitch=60, telephone=True),
    Fixture("not_very_satisfied_3", "不太满意", "bu2 tai4 man3 yi4", "不满意", speed=165, pitch=40, snr_db=18),
    Fixture("transfer_1", "转人工", "zhuan3 ren2 gong1", "转人工"),
    Fixture("transfer_2", "转人工", "zhuan3 ren2 gong1", "转人工", speed=125, pitch=65, snr_db=18),
    Fixture("human_service_1", "人工服务", "ren2 gong1 fu2 wu4", "转人工"),
    Fixture("human_service_2", "人工服务", "ren2 gong1 fu2 wu4", "转人工", speed=170, pitch=35, telephone=True),
    Fixture("silence_1", "", "", "未识别", role="silence"),
    Fixture("silence_hiss_1", "", "", "未识别", role="silence", hiss=True),
    Fixture(
        "progress_query_1",
        "查询工单一二三四五六",
        "cha2 xun2 gong1 dan1 yi1 er4 san1 si4 wu3 liu4",
        "未识别",
        speed=130,
        ticket="123456",
        role="query",
    ),
    Fixture(
        "question_prompt",
        "请问您对处理结果满意吗？",
        "qing3 wen4 nin2 dui4 chu3 li3 jie2 guo3 man3 yi4 ma5",
        "未识别",
        role="prompt",
    ),
)

SILENCE_S = 2.0
NOISE_ONLY_RMS = 0.003  # faint line hiss for the "silence with noise" fixture


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"make_audio_fixtures: {tool} not found (apt-get install espeak-ng sox)")
    return path


def synthesize(fx: Fixture) -> np.ndarray:
    """espeak-ng -> sox (16 kHz mono s16, optional 8 kHz round trip) -> float32 samples."""
    espeak = [_require("espeak-ng"), "-v", VOICE, "-s", str(fx.speed), "-p", str(fx.pitch),
              "--stdout", fx.pinyin]  # fmt: skip
    wav = subprocess.run(espeak, check=True, capture_output=True).stdout
    effects = ["rate", "8000", "rate", str(SAMPLE_RATE)] if fx.telephone else ["rate", str(SAMPLE_RATE)]
    # -D: no dither, so that regenerating gives identical files (sox dithers randomly).
    sox = [_require("sox"), "-D", "-t", "wav", "-", "-t", "raw", "-e", "signed-integer", "-b", "16",
           "-c", "1", "-"] + effects  # fmt: skip
    raw = subprocess.run(sox, input=wav, check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def render(fx: Fixture, rng: np.random.Generator) -> np.ndarray:
    if fx.role == "silence":
        audio = np.zeros(int(SILENCE_S * SAMPLE_RATE), dtype=np.float32)
        if fx.hiss:
            audio += rng.normal(0.0, NOISE_ONLY_RMS, audio.size).astype(np.float32)
        return audio
    speech = synthesize(fx)
    speech = speech / max(float(np.abs(speech).max()), 1e-6) * 0.5  # same level for all
    audio = np.concatenate(
        [
            np.zeros(int(LEAD_S * SAMPLE_RATE), np.float32),
            speech,
            np.zeros(int(TAIL_S * SAMPLE_RATE), np.float32),
        ]
    )
    if fx.snr_db is not None:
        signal_rms = float(np.sqrt(np.mean(speech**2)))
        noise_rms = signal_rms / (10 ** (fx.snr_db / 20))
        audio = audio + rng.normal(0.0, noise_rms, audio.size).astype(np.float32)
    return audio


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(SAMPLE_RATE)
        wf.writeframes(pcm.tobytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate ASR audio fixtures with espeak-ng.")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(12345)  # fixed seed: regenerating gives the same noise
    entries = []
    total_bytes = 0
    for fx in FIXTURES:
        audio = render(fx, rng)
        path = out / f"{fx.name}.wav"
        write_wav(path, audio)
        total_bytes += path.stat().st_size
        entries.append(
            {
                "file": path.name,
                "intent": fx.intent,
                "text": fx.text,
                "pinyin": fx.pinyin,
                "role": fx.role,
                "ticket": fx.ticket,
                "seconds": round(audio.size / SAMPLE_RATE, 3),
                "espeak": {"voice": VOICE, "speed": fx.speed, "pitch": fx.pitch},
                "telephone": fx.telephone,
                "snr_db": fx.snr_db,
                "hiss": fx.hiss,
            }
        )
    manifest = {
        "question": "请问您对处理结果满意吗？",
        "sample_rate": SAMPLE_RATE,
        "generator": "python -m tools.make_audio_fixtures",
        "fixtures": entries,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(entries)} fixtures ({total_bytes / 1e6:.2f} MB) to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
