"""The robot's Mandarin prompts: committed clips, concatenated into sentences (IVR style).

Choice: no TTS at run time. espeak-ng (and any offline Mandarin TTS worth using) is not on a
fresh machine, so the clips are generated once by ``python -m tools.make_prompts`` (espeak-ng
voice ``cmn-latn-pinyin``) and committed under ``adapters/telephony/prompts/`` as 16 kHz mono
Ogg/Opus (the whole set is ~160 kB). Fixed sentences are single clips; the dynamic parts are
built the way IVR systems build them, by concatenating clips:

* ticket numbers are read digit by digit, 1 as 幺 (``d1``) as on the phone, so the citizen
  can check every digit ("工单 二零二五零九三零零零零幺");
* dates are read as 月/日 numerals (十二月三十一日), from ``n0``..``n10``, ``month``, ``day``;
* the request category (投诉, 咨询, ...) and the order state (办理中, 已办结, ...) are clips;
  every lifecycle state, top-level and sub-state, has one (checked at import: a state the
  citizen could ask about is never read as another, so 办理中/延期审批中 is heard as
  办理中（延期审批中）), and an unknown state raises instead of being guessed;
* reminders say their recorded script word for word, greeting to goodbye
  (``adapters.telephony.script``); the robot adds nothing to it.

Loading checks the set: a manifest entry without its audio file, or a clip the code needs
missing from the manifest, is an error at start-up rather than in the middle of a call.

Clips are decoded once per process (PyAV, already installed with aiortc) into int16 arrays;
``Utterance`` carries the samples, the clip names (what tests and logs check) and the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import av
import numpy as np

from adapters.telephony.script import is_variable_clip, segment, variable_clip_texts
from domain import lifecycle as lc

SAMPLE_RATE = 16000
PROMPT_DIR = Path(__file__).resolve().parent / "prompts"
WORD_GAP_S = 0.04  # between digits / numerals
PHRASE_GAP_S = 0.18  # between phrases: well under the citizen's end-of-turn pause

CATEGORY_CLIPS = {"咨询": "cat_consult", "求助": "cat_help", "投诉": "cat_complaint",
                  "举报": "cat_report", "建议": "cat_suggestion", "表扬": "cat_praise"}
# Every state an order can be in, top-level and leaf, as the citizen hears it.
STATE_CLIPS = {
    lc.INTAKE: "state_intake", lc.DISPATCHED: "state_dispatched", lc.RETURNED: "state_returned",
    lc.HANDLING: "state_handling", lc.RESOLVED: "state_resolved", lc.ARCHIVED: "state_archived",
    lc.WITHDRAWN: "state_withdrawn", lc.MERGED: "state_merged",
    lc.TRANSFERRED: "state_transferred",
    lc.join_state(lc.HANDLING, lc.WORKING): "state_handling",
    lc.join_state(lc.HANDLING, lc.EXTENSION_PENDING): "state_extension_pending",
}
DIGIT_CLIPS = {str(d): f"n{d}" for d in range(10)} | {"1": "d1"}
_WORD_CLIPS = {*DIGIT_CLIPS.values(), *(f"n{d}" for d in range(11)), "month", "day"}
# Clips the sentences below use by name (beside the state, category and variable clips).
FIXED_CLIPS = ("greet_callback", "your_request", "issue_resolved", "q_satisfied", "q_options",
               "sorry_unclear", "q_simple", "q_confirm_basic", "thanks_bye", "handoff",
               "handoff_unclear", "unrecognized_bye", "query_ticket", "current_state",
               "expected", "before_done", "not_found")
# The phrases of the reminder scripts composed in domain/policies/escalation.py (department
# names come on top): required at load so a lost one fails at start-up, not on a call.
SCRIPT_PHRASES = ("greet", "ticket", "will_be_due", "due_report_by", "today", "report_plan",
                  "your_request", "issue_ticket", "in_progress_eta", "before_done",
                  "lead_ticket", "due_supervise", "ack_request", "bye")


class PromptError(RuntimeError):
    """The committed prompt set does not fit the code (found at import or at load)."""


def lifecycle_states() -> set[str]:
    """Every state name an order can report: the top-level states and the leaves."""
    return {s if isinstance(s, str) else s["name"] for s in lc.STATES} | set(lc.LEAF_STATES)


def check_state_clips(clips: dict[str, str] = STATE_CLIPS) -> None:
    """Every lifecycle state maps to a clip, and nothing else does."""
    missing = sorted(lifecycle_states() - clips.keys())
    stale = sorted(clips.keys() - lifecycle_states())
    if missing or stale:
        raise PromptError(f"state clips out of step with domain.lifecycle: missing {missing}, "
                          f"not a state {stale}")


check_state_clips()  # at import: a new state must get its clip before anything runs


def state_clip(state: str) -> str:
    try:
        return STATE_CLIPS[state]
    except KeyError:
        raise PromptError(f"no clip for the order state {state!r}") from None


def required_clips() -> set[str]:
    """Every clip name the code can ask for."""
    return ({*FIXED_CLIPS, *SCRIPT_PHRASES, *STATE_CLIPS.values(), *CATEGORY_CLIPS.values(),
             *_WORD_CLIPS} | variable_clip_texts().keys())


@dataclass
class Utterance:
    """Audio to play (int16, 16 kHz mono) with the clips it was built from."""

    pcm: np.ndarray
    clips: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def seconds(self) -> float:
        return self.pcm.size / SAMPLE_RATE


def decode_clip(path: Path) -> np.ndarray:
    """Any audio file PyAV reads -> int16 16 kHz mono."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)


def number_words(value: int) -> list[str]:
    """1..99 as numeral clips: 10 → 十, 15 → 十五, 20 → 二十, 23 → 二十三."""
    if not 0 < value < 100:
        raise ValueError(f"only 1..99 can be read as a numeral, got {value}")
    tens, ones = divmod(value, 10)
    words = [] if tens == 0 else (["n10"] if tens == 1 else [f"n{tens}", "n10"])
    if ones:
        words.append(f"n{ones}")
    return words


class PromptLibrary:
    """The decoded clips and the sentences the robot says."""

    def __init__(self, clips: dict[str, np.ndarray], texts: dict[str, str]) -> None:
        self.clips = clips
        self.texts = texts
        # What a script can be cut into, besides the variable parts: the phrase clips.
        self.phrases = {text: name for name, text in texts.items()
                        if name not in _WORD_CLIPS and not is_variable_clip(name)}

    @classmethod
    def load(cls, directory: Path = PROMPT_DIR) -> PromptLibrary:
        return _load(directory)

    # ----- building blocks ---------------------------------------------------------
    def compose(self, parts: list[str | list[str]]) -> Utterance:
        """Phrases (clip names) separated by phrase gaps; a list is a run of words
        (digits, a date) separated by short gaps."""
        pieces: list[np.ndarray] = []
        names: list[str] = []
        text: list[str] = []
        phrase_gap = np.zeros(int(PHRASE_GAP_S * SAMPLE_RATE), np.int16)
        word_gap = np.zeros(int(WORD_GAP_S * SAMPLE_RATE), np.int16)
        for index, part in enumerate(parts):
            if index:
                pieces.append(phrase_gap)
            words = part if isinstance(part, list) else [part]
            for w, name in enumerate(words):
                if w:
                    pieces.append(word_gap)
                pieces.append(self.clip(name))
                names.append(name)
                text.append(self.texts.get(name, name))
        pcm = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
        return Utterance(pcm, names, "".join(text))

    @staticmethod
    def join(*utterances: Utterance) -> Utterance:
        """Several utterances played as one (a phrase gap between them)."""
        gap = np.zeros(int(PHRASE_GAP_S * SAMPLE_RATE), np.int16)
        pieces: list[np.ndarray] = []
        for index, utterance in enumerate(utterances):
            if index:
                pieces.append(gap)
            pieces.append(utterance.pcm)
        return Utterance(np.concatenate(pieces) if pieces else np.zeros(0, np.int16),
                         [c for u in utterances for c in u.clips],
                         "".join(u.text for u in utterances))

    def clip(self, name: str) -> np.ndarray:
        try:
            return self.clips[name]
        except KeyError:
            raise KeyError(f"no prompt clip {name!r} in {PROMPT_DIR} "
                           "(run python -m tools.make_prompts)") from None

    @staticmethod
    def digits(number: str) -> list[str]:
        return [DIGIT_CLIPS[ch] for ch in number if ch in DIGIT_CLIPS]

    @staticmethod
    def month_day(day: date) -> list[str]:
        return [*number_words(day.month), "month", *number_words(day.day), "day"]

    # ----- callback (回访) ---------------------------------------------------------------
    def callback_question(self, category: str | None) -> Utterance:
        parts: list[str | list[str]] = ["greet_callback", "your_request"]
        if category in CATEGORY_CLIPS:
            parts.append(CATEGORY_CLIPS[category])
        parts += ["issue_resolved", "q_satisfied", "q_options"]
        return self.compose(parts)

    def reask(self) -> Utterance:
        """The second ask, simpler than the first: two answers, each said for the citizen."""
        return self.compose(["sorry_unclear", "q_simple"])

    def confirm_basic(self) -> Utterance:
        """After a lukewarm answer (还行, 一般): "那您是基本满意吗？"."""
        return self.compose(["q_confirm_basic"])

    def handoff_unclear(self) -> Utterance:
        """Two asks not understood: a person takes over (with the transcript)."""
        return self.compose(["handoff_unclear"])

    def ask_again(self) -> Utterance:
        """After a progress query: back to the callback question."""
        return self.compose(["q_satisfied", "q_options"])

    def thanks(self) -> Utterance:
        return self.compose(["thanks_bye"])

    def handoff(self) -> Utterance:
        return self.compose(["handoff"])

    def unrecognized_bye(self) -> Utterance:
        return self.compose(["unrecognized_bye"])

    # ----- progress query (进度查询) ------------------------------------------------------
    def progress(self, number: str, state: str | None, expected: date | None) -> Utterance:
        """Always reads the number back; then the state (the full state,
        ``lifecycle.join_state``, so a sub-state is heard as such) and the expected
        completion date, or "未查询到该工单" when there is no such order (state None)."""
        parts: list[str | list[str]] = ["query_ticket", self.digits(number)]
        if state is None:
            parts.append("not_found")
            return self.compose(parts)
        parts += ["current_state", state_clip(state)]
        if expected is not None:
            parts += ["expected", self.month_day(expected), "before_done"]
        return self.compose(parts)

    # ----- reminders (OutboundCallRequested) ----------------------------------------------
    def script(self, text: str) -> Utterance:
        """The recorded script, word for word (UnvoiceableScript when a clip is missing)."""
        return self.compose(segment(text, self.phrases))


@cache
def _load(directory: Path) -> PromptLibrary:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    entries: dict[str, dict[str, object]] = manifest["clips"]
    no_audio = sorted(n for n in entries if not (directory / f"{n}.ogg").is_file())
    absent = sorted(required_clips() - entries.keys())
    if no_audio or absent:
        raise PromptError(f"prompt set in {directory} is incomplete: no audio file for "
                          f"{no_audio}, not in the manifest {absent} "
                          "(run python -m tools.make_prompts)")
    clips = {name: decode_clip(directory / f"{name}.ogg") for name in entries}
    texts = {name: str(info.get("text", name)) for name, info in entries.items()}
    return PromptLibrary(clips, texts)

