"""Transcripts made comparable before any rule or model reads them.

Whisper writes Mandarin in traditional characters about as often as in simplified ones (還沒,
問題, 投訴, 談不上), mixes full-width and half-width forms, sometimes loops on a phrase until
its token limit ("满意满意满意满意…") and, on silence or noise, produces the subtitle credits
it was trained on ("字幕由Amara.org社区提供"). ``normalize_transcript`` undoes all of that:

1. OpenCC ``t2s`` (opencc-purepy, pure Python): traditional -> simplified;
2. NFKC: full-width letters, digits and punctuation -> their ASCII forms;
3. known hallucinations removed;
4. a unit of 1-10 characters repeated three times or more in a row is kept twice ("好好好好"
   -> "好好", "满意满意满意" -> "满意满意"): the meaning is the same and a looping decoder
   cannot outweigh the rest of the answer;
5. clause punctuation kept as a single "，" (the concession layer reads clauses), everything
   else (spaces, quotes, symbols) dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Final

# Subtitle credits and sign-offs Whisper hallucinates on silence, music or noise.
HALLUCINATIONS: Final = (
    re.compile(r"字幕(由|by|提供|制作|志愿者)[^，。,]*"),
    re.compile(r"(请)?不吝点赞[^，。,]*"),
    re.compile(r"(点赞|订阅|转发|打赏)(支持)?[^，。,]*(栏目|频道)"),
    re.compile(r"(谢谢|感谢)(大家|您的)?(观看|收看|收听)"),
    re.compile(r"amara\.?org[^，。,]*", re.IGNORECASE),
)
_CLAUSE_BREAK = re.compile(r"[,.;:!?，。；：！？、…~]+")
_DROP = re.compile(r"[^\w，]+|_", re.UNICODE)
_REPEAT = re.compile(r"(.{1,10}?)\1{2,}")
_NUMERALS = frozenset("0123456789零〇一二三四五六七八九幺两洞")
_COMMAS = re.compile(r"，{2,}")


@cache
def _converter() -> object:
    from opencc_purepy import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters -> simplified (OpenCC t2s)."""
    return str(_converter().convert(text))  # type: ignore[attr-defined]


def collapse_repetitions(text: str) -> str:
    """A unit repeated three or more times in a row is kept twice; digits never (the 000 of
    a ticket number such as 202509300001 is said, not a decoding loop)."""

    def kept(match: re.Match[str]) -> str:
        unit = match.group(1)
        return match.group(0) if all(ch in _NUMERALS for ch in unit) else unit * 2

    previous = None
    while previous != text:
        previous = text
        text = _REPEAT.sub(kept, text)
    return text


def normalize_transcript(text: str) -> str:
    """Simplified, half-width, lower-case, without hallucinated credits or loops; clauses
    separated by "，", no other punctuation or spaces."""
    text = unicodedata.normalize("NFKC", to_simplified(text)).lower()
    for pattern in HALLUCINATIONS:
        text = pattern.sub("", text)
    text = _CLAUSE_BREAK.sub("，", text)
    text = _DROP.sub("", text)
    text = collapse_repetitions(text)
    return _COMMAS.sub("，", text).strip("，")


def clauses(normalized: str) -> list[str]:
    """The clauses of a normalised transcript."""
    return [c for c in normalized.split("，") if c]
