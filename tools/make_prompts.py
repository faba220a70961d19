"""Generate the robot's committed prompt clips in adapters/telephony/prompts/ (needs espeak-ng).

Speech comes from espeak-ng's Mandarin voice ``cmn-latn-pinyin`` (input: pinyin with tone
digits). Each clip is trimmed of leading/trailing silence, normalised to the same level and
stored as 16 kHz mono Ogg/Opus at 24 kbit/s (~3 kB per second of speech: the whole set is a
few hundred kB, where 16-bit WAV would be over a megabyte). The robot decodes them once at
start with PyAV (already a dependency through aiortc) and builds sentences by concatenating
clips, as IVR systems do: fixed phrases plus digit, numeral, date, time, category, state and
department clips (the table is ``tools.prompt_texts``).

Tests and fresh machines never call this (espeak-ng is not installed there): run it by hand
after changing a clip and commit the output:

    apt-get install espeak-ng
    python -m tools.make_prompts            # clips that are new or whose text/pinyin changed
    python -m tools.make_prompts --all      # every clip
    python -m tools.make_prompts --check    # verify that every clip in the table exists
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import wave
from io import BytesIO
from pathlib import Path

import av
import numpy as np

from domain.departments import DepartmentRegistry
from tools.prompt_texts import DEPARTMENT_CLIPS, all_clips

SAMPLE_RATE = 16000
VOICE = "cmn-latn-pinyin"
SPEED = 230  # words (syllables) per minute: brisk, like a recorded IVR voice
PITCH = 45
BITRATE = 24000
PEAK = 0.5
SILENCE_THRESHOLD = 0.01
OUT_DIR = Path(__file__).resolve().parents[1] / "adapters" / "telephony" / "prompts"

# name -> (text, pinyin). Names are file names; texts are what the robot says.
CLIPS: dict[str, tuple[str, str]] = all_clips()


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"make_prompts: {tool} not found (apt-get install espeak-ng)")
    return path


def synthesize(pinyin: str) -> np.ndarray:
    """espeak-ng WAV (22.05 kHz) -> float32 16 kHz mono, trimmed and normalised."""
    cmd = [_require("espeak-ng"), "-v", VOICE, "-s", str(SPEED), "-p", str(PITCH), "--stdout",
           pinyin]
    data = subprocess.run(cmd, check=True, capture_output=True).stdout
    with wave.open(BytesIO(data), "rb") as wf:
        rate = wf.getframerate()
        raw = wf.readframes(wf.getnframes())
    audio = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    audio = _resample(audio, rate, SAMPLE_RATE)
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    if loud.size:
        margin = int(0.02 * SAMPLE_RATE)
        audio = audio[max(0, loud[0] - margin): loud[-1] + margin]
    return (audio / max(float(np.abs(audio).max()), 1e-6) * PEAK).astype(np.float32)


def _resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=dst)
    frame = av.AudioFrame.from_ndarray(
        (audio * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = src
    chunks = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def encode_opus(audio: np.ndarray, path: Path) -> None:
    """16 kHz mono float32 -> Ogg/Opus file."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE)
        stream.bit_rate = BITRATE
        stream.layout = "mono"
        frame_size = SAMPLE_RATE // 50  # 20 ms
        padded = np.concatenate([pcm, np.zeros(-pcm.size % frame_size, np.int16)])
        for i, start in enumerate(range(0, padded.size, frame_size)):
            frame = av.AudioFrame.from_ndarray(padded[start:start + frame_size].reshape(1, -1),
                                               format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = i * frame_size
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def check(out: Path) -> list[str]:
    """What is missing: clips of the table not in the manifest, manifest entries without
    audio, and departments of the registry without a name clip."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    missing = sorted(set(CLIPS) - set(manifest["clips"]))
    missing += [n for n in manifest["clips"] if not (out / f"{n}.ogg").is_file()]
    missing += [f"department {d.name}" for d in DepartmentRegistry.load().all()
                if d.name not in DEPARTMENT_CLIPS]
    return missing


def generate(out: Path, everything: bool) -> dict[str, dict[str, object]]:
    """Synthesise the clips whose entry changed (or all); drop clips no longer in the table.
    Unchanged clips keep their committed bytes, so a new clip does not rewrite the set."""
    manifest_path = out / "manifest.json"
    old = (json.loads(manifest_path.read_text(encoding="utf-8"))["clips"]
           if manifest_path.is_file() else {})
    clips: dict[str, dict[str, object]] = {}
    for name, (text, pinyin) in CLIPS.items():
        entry = old.get(name)
        if (not everything and entry and (entry["text"], entry["pinyin"]) == (text, pinyin)
                and (out / f"{name}.ogg").is_file()):
            clips[name] = entry
            continue
        audio = synthesize(pinyin)
        encode_opus(audio, out / f"{name}.ogg")
        clips[name] = {"text": text, "pinyin": pinyin, "seconds": round(audio.size / SAMPLE_RATE, 3)}
    for name in set(old) - set(CLIPS):
        (out / f"{name}.ogg").unlink(missing_ok=True)
    return clips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true", help="only check the committed set")
    parser.add_argument("--all", action="store_true", help="regenerate every clip")
    args = parser.parse_args(argv)
    out: Path = args.out
    if args.check:
        missing = check(out)
        print("missing: " + ", ".join(missing) if missing else f"{len(CLIPS)} clips OK")
        return 1 if missing else 0
    out.mkdir(parents=True, exist_ok=True)
    clips = generate(out, args.all)
    manifest = {"sample_rate": SAMPLE_RATE, "format": "ogg/opus", "bitrate": BITRATE,
                "generator": "python -m tools.make_prompts",
                "espeak": {"voice": VOICE, "speed": SPEED, "pitch": PITCH}, "clips": clips}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    total = sum(p.stat().st_size for p in out.glob("*.ogg"))
    seconds = sum(float(str(c["seconds"])) for c in clips.values())
    print(f"{len(clips)} clips, {seconds:.1f} s of speech, {total / 1024:.0f} kB in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
