"""ASR benchmark: `python -m tools.bench asr [--rounds N] [--model PATH] [--json]`.

Over the committed fixtures (tests/fixtures/audio), interleaved in one run:

* ``rtf``: our recognizer, WhisperRecognizer.transcribe(wav path): read and validate the
  WAV, silence gate, pad, whisper_full. Real-time factor = audio seconds / processing
  seconds. Silent fixtures skip whisper in our pipeline (``skipped_as_silence``).
* ``direct_rtf``: pywhispercpp's Model.transcribe(wav path) with the same parameters
  (second model instance, same file), so ``ratio`` = rtf / direct_rtf is the wrapper's cost.
* ``intent_rtf``: the whole callback-answer path, classify_answer (transcription plus
  teacher-forced scoring of the expected answers plus the rules).
* ``intent_accuracy``, ``dangerous_errors`` (不满意 classified 满意/基本满意) of that path.

The three variants take turns on every fixture, in a rotating order, so that load from other
processes hits them alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "audio"


def run(argv: list[str]) -> dict[str, Any]:
    from pywhispercpp.model import Model

    from adapters.asr.intent import classify_answer, is_dangerous_error
    from adapters.asr.whisper import DEFAULT_AUDIO_CTX, WhisperRecognizer, read_wav

    parser = argparse.ArgumentParser(prog="python -m tools.bench asr")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--model", default=None, help="ggml model (default: as the recognizer)")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    parser.add_argument("--audio-ctx", type=int, default=DEFAULT_AUDIO_CTX,
                        help="encoder frames (20 ms)")
    args = parser.parse_args(argv)

    manifest = json.loads((args.fixtures / "manifest.json").read_text(encoding="utf-8"))
    items = [(args.fixtures / fx["file"], fx["intent"]) for fx in manifest["fixtures"]]
    seconds = {path: read_wav(path).size / 16000 for path, _ in items}

    recognizer = WhisperRecognizer(args.model, audio_ctx=args.audio_ctx)
    direct = Model(str(recognizer.model_path), redirect_whispercpp_logs_to=None,
                   context_params=recognizer.context_params, **recognizer.params)  # fmt: skip

    def ours(path: Path) -> None:
        if recognizer.transcribe(path).skipped:
            skipped.add(path)

    def theirs(path: Path) -> None:
        direct.transcribe(str(path))

    outcomes: list[tuple[str, str]] = []
    skipped: set[Path] = set()
    scoring: list[float] = []
    calls: list[int] = []

    def intent(path: Path) -> None:
        result, transcription = classify_answer(recognizer, path)
        outcomes.append((expected[path], result.intent))
        scoring.append(transcription.scoring_seconds)
        calls.append(transcription.decoder_calls)

    expected = dict(items)
    variants = {"rtf": ours, "direct_rtf": theirs, "intent_rtf": intent}
    busy = dict.fromkeys(variants, 0.0)
    audio = 0.0
    # Warm-up: first calls allocate buffers and fault in the model's pages.
    ours(items[0][0])
    theirs(items[0][0])
    names = list(variants)
    for rnd in range(args.rounds):
        for i, (path, _) in enumerate(items):
            k = (rnd + i) % len(names)
            for name in names[k:] + names[:k]:
                start = time.perf_counter()
                variants[name](path)
                busy[name] += time.perf_counter() - start
            audio += seconds[path]

    n_ok = sum(1 for want, got in outcomes if want == got)
    rtf = {name: audio / busy[name] for name in names}
    return {
        "rtf": round(rtf["rtf"], 3),
        "direct_rtf": round(rtf["direct_rtf"], 3),
        "ratio": round(rtf["rtf"] / rtf["direct_rtf"], 3),
        "intent_rtf": round(rtf["intent_rtf"], 3),
        "intent_accuracy": round(n_ok / len(outcomes), 4),
        "dangerous_errors": sum(1 for want, got in outcomes if is_dangerous_error(want, got)),
        "utterances": len(outcomes),
        # Our pipeline skips whisper on silence (energy gate); the direct calls cannot.
        "skipped_as_silence": len(skipped),
        "audio_seconds": round(audio, 2),
        "scoring_ms_mean": round(1000 * statistics.fmean(scoring), 1),
        "scoring_decoder_calls_mean": round(statistics.fmean(calls), 1),
        "settings": {
            **{k: v for k, v in recognizer.params.items() if not k.startswith("print_")},
            **recognizer.context_params,
        },
    }


if __name__ == "__main__":
    print(json.dumps(run([]), ensure_ascii=False))
