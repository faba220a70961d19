"""Voicing a recorded call script from clips: what the robot says is what the event says.

Reminder scripts are composed by the domain (``domain/policies/escalation.py``) and recorded
in OutboundCallRequested, which is what an audit reads. The robot has no TTS, so it voices a
script by cutting it into pieces it has clips for, each clip's manifest text being exactly
the characters it covers (so the clips played, read back, *are* the recorded script):

* fixed phrases ("您好，这里是12345热线。", "将于", a department's name ...);
* a date-time "2025年10月01日10:20": the year digit by digit (1 as 一), 年, "10月", "01日",
  "10:" (十点), "20" (二十分);
* a time "08:20": "08:" (八点) and "20" (二十分; "00" is 整);
* any other run of digits (a ticket number): digit by digit, 1 as 幺 as on the phone.

A script that cannot be cut into clips completely raises ``UnvoiceableScript``: the robot
never plays something other than the recorded text. The script is the whole call, opening
to closing; ``turns`` cuts it where the robot stops to listen (after each recorded
acknowledgement request), so nothing is said between the turns but the turns themselves.

The names and texts of the variable clips are defined here; ``tools.make_prompts`` adds
their pronunciation and generates them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from domain.policies.escalation import ACK_REQUEST

Part = str | list[str]  # a phrase clip, or a run of word clips read with short gaps

YEAR_MARK = "year_mark"
PLAIN_ONE = "digit_1_plain"  # 一 (yi1) in years, where 幺 would sound wrong
VARIABLE_PREFIXES = ("digit_", "month_", "day_", "hour_", "minute_")


def digit_clip(digit: str) -> str:
    return f"digit_{digit}"


def month_clip(month: int) -> str:
    return f"month_{month:02d}"


def day_clip(day: int) -> str:
    return f"day_{day:02d}"


def hour_clip(hour: int) -> str:
    return f"hour_{hour:02d}"


def minute_clip(minute: int) -> str:
    return f"minute_{minute:02d}"


def variable_clip_texts() -> dict[str, str]:
    """Every variable clip: name -> the exact text it stands for in a script."""
    texts = {digit_clip(str(d)): str(d) for d in range(10)}
    texts |= {PLAIN_ONE: "1", YEAR_MARK: "年"}
    texts |= {month_clip(m): f"{m:02d}月" for m in range(1, 13)}
    texts |= {day_clip(d): f"{d:02d}日" for d in range(1, 32)}
    texts |= {hour_clip(h): f"{h:02d}:" for h in range(24)}
    texts |= {minute_clip(m): f"{m:02d}" for m in range(60)}
    return texts


def is_variable_clip(name: str) -> bool:
    return name == YEAR_MARK or name.startswith(VARIABLE_PREFIXES)


class UnvoiceableScript(ValueError):
    """A script the committed clips cannot say word for word."""


def turns(script: str) -> list[str]:
    """The recorded script in the pieces the robot says between listening: cut after each
    acknowledgement request, so a turn that ends with ``ACK_REQUEST`` is followed by
    listening. Joined, the turns are the script."""
    pieces = script.split(ACK_REQUEST)
    cut = [piece + ACK_REQUEST for piece in pieces[:-1]]
    return cut + [pieces[-1]] if pieces[-1] else cut


def asks_for_ack(turn: str) -> bool:
    return turn.endswith(ACK_REQUEST)


_DATETIME = re.compile(r"(\d{4})年(\d{2})月(\d{2})日(\d{2}):(\d{2})")
_TIME = re.compile(r"(\d{2}):(\d{2})")
_DIGITS = re.compile(r"\d+")


def _time_words(hour: int, minute: int) -> list[str] | None:
    return [hour_clip(hour), minute_clip(minute)] if hour < 24 and minute < 60 else None


def _datetime_words(match: re.Match[str]) -> list[str] | None:
    year, month, day, hour, minute = match.groups()
    time = _time_words(int(hour), int(minute))
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31) or time is None:
        return None
    digits = [PLAIN_ONE if d == "1" else digit_clip(d) for d in year]
    return [*digits, YEAR_MARK, month_clip(int(month)), day_clip(int(day)), *time]


def _variable(script: str, at: int) -> list[tuple[int, Part]]:
    """The variable parts that can start at ``at``: (length, clips)."""
    found: list[tuple[int, Part]] = []
    if match := _DATETIME.match(script, at):
        words = _datetime_words(match)
        if words:
            found.append((match.end() - at, words))
    if match := _TIME.match(script, at):
        words = _time_words(int(match[1]), int(match[2]))
        if words:
            found.append((match.end() - at, words))
    if match := _DIGITS.match(script, at):
        found.append((match.end() - at, [digit_clip(d) for d in match[0]]))
    return found


def segment(script: str, phrases: Mapping[str, str]) -> list[Part]:
    """The clips that say ``script`` exactly (fewest pieces), from ``phrases`` (text -> clip
    name) and the variable clips; UnvoiceableScript when there is no such cut."""
    if not script:
        raise UnvoiceableScript("an empty script cannot be voiced")
    stuck = [0]  # the furthest position no clip could continue from

    def candidates(at: int) -> list[tuple[int, Part]]:
        found = _variable(script, at)
        found += [(len(text), name) for text, name in phrases.items()
                  if script.startswith(text, at)]
        if not found:
            stuck[0] = max(stuck[0], at)
        return found

    @cache
    def best(at: int) -> tuple[Part, ...] | None:
        if at == len(script):
            return ()
        cuts = [(part, *rest) for length, part in candidates(at)
                if (rest := best(at + length)) is not None]
        return min(cuts, key=len, default=None)

    cut = best(0)
    if cut is None:
        at = stuck[0]
        raise UnvoiceableScript(f"no prompt clip says {script[at:at + 16]!r} (at {at}) in the "
                                f"script {script!r}; add the clip to tools/prompt_texts.py")
    return list(cut)
