"""Speech for sentences no prompt clip holds (the inbound robot's answers: an article's short
answer, a read-back): espeak-ng's Mandarin voice, run as a program, behind a small port so a
centre can put its own TTS engine there. Whatever is synthesised is the exact text the call
record stores as said. `make test` installs espeak-ng where it is missing (.ci/install-browser).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
import wave
from collections import OrderedDict
from typing import Final, Protocol

import numpy as np

from adapters.asr.whisper import to_mono_16k
from adapters.telephony.media import to_int16

VOICE: Final = "cmn-latn-pinyin"  # characters or pinyin; `cmn` reads tone digits in English
SPEED: Final = 210  # syllables per minute, like the committed prompt clips
CACHE: Final = 256  # sentences kept (fixed phrases and popular answers repeat)


class SpeechUnavailable(RuntimeError):
    """No TTS engine on this machine."""


class Tts(Protocol):
    def synthesize(self, text: str) -> np.ndarray:
        """int16, 16 kHz mono."""
        ...


class EspeakTts:
    def __init__(self, binary: str | None = None, voice: str = VOICE, speed: int = SPEED
                 ) -> None:
        found = binary or shutil.which("espeak-ng")
        if found is None:
            raise SpeechUnavailable("espeak-ng is not installed (apt-get install espeak-ng)")
        self.binary, self.voice, self.speed = found, voice, speed
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> np.ndarray:
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        done = subprocess.run([self.binary, "-v", self.voice, "-s", str(self.speed),
                               "--stdout", text], capture_output=True, timeout=30, check=True)
        with wave.open(io.BytesIO(done.stdout), "rb") as wav:
            rate = wav.getframerate()
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        audio = to_int16(to_mono_16k(pcm, rate))
        with self._lock:
            self._cache[text] = audio
            if len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return audio
