"""The negation- and concession-aware layer: what a normalised transcript says for certain.

Read on the output of ``normalize.normalize_transcript`` (simplified, clauses joined by "，").
It finds:

* ``negative`` — dissatisfaction beyond a plain 不满意: 没/没有/未 + 解决/处理/人管/用,
  谈不上 / 算不上 / 说不上, 一点也不, 失望, 问题还在, 还是老样子, sarcasm (满意什么呀, 谁满意,
  这也叫解决了), refusals (不接受, 要求重办), and a concession whose second clause negates
  ("满意是满意，但是问题还在");
* ``handoff`` — a request for a person: 人工 / 客服 / 真人 / 领导 / 投诉 / 不要机器人 ...;
* ``doubt`` — a negation left over once the positive idioms that contain one are set aside
  (不错, 没问题, 没毛病, 没意见, 挑不出毛病, 没什么不满意): the layer cannot tell what it
  negates, so the answer must not be recorded as satisfied;
* ``concession`` — 但是 / 可是 / 不过 / 就是 / 其实 after a first clause: a positive answer with
  a reservation is at most 基本满意;
* ``basic`` / ``lukewarm`` — 基本 / 大体 / 还算 ... and 还行 / 一般 / 凑合 ...;
* ``echo`` — the robot's own question repeated ("满意吗", "满不满意").

Negative cues are checked before anything else and make the answer 不满意 outright: a wrong
不满意 costs a second visit, a wrong 满意 closes a complaint that was never solved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from adapters.asr.normalize import clauses

# Positive idioms that contain a negation character; masked before negation is looked for.
POSITIVE_IDIOMS: Final = re.compile(
    r"不错|没(有)?(什么)?问题|(一点|什么)?问题(都|也)没(有)?|没毛病|挑不出(什么)?(毛病)?|差不多"
    r"|没(有)?(什么)?(可|好)?不满意的?|不客气|不用谢|不好意思|非常|无可挑剔"
)
NEGATIVE: Final = re.compile(
    r"(不|没|未|(?<!特)别)(有|太|是很|是太|大|怎么|很|够|算|咋|是)?满意"
    r"|(谈|算|说)不上|一点(也|都|儿)?(不|没)|失望|问题(还|依旧|依然|仍然|照样)|依旧|照旧"
    r"|跟原来一样|还是一样|一样(吵|臭|脏|堵|乱)"
    r"|(没|未|没有)(人|任何|什么|见|看到|见有人)?(解决|处理|办|修|弄|管|来|联系|改善|变化|改变|动静"
    r"|回复|落实)|(?<!再)(都|也)没(有)?"
    r"|没(有)?(什么|任何)?用|没人|(根本|压根|从来|一直|完全)(就)?(没|不|未)"
    r"|还(是|在)?(没|不)|还在(漏|吵|响|堵|坏|冒|滴|臭)|又坏|没(修)?好"
    r"|不(行|咋|怎么样|靠谱|认可|同意|接受|像话)|(?<!信号)不好(?!意思|说)|很差|太差|差评|差劲|糟"
    r"|敷衍|踢皮球|推来推去|重新(处理|办)|重办|气人|无语"
    r"|满意(什么|个啥|个鬼|啥|个屁)|谁满意|哪(里|儿)满意|怎么(可能)?满意|开什么玩笑"
)
HANDOFF: Final = re.compile(
    r"人工|客服|真人|转接|接线员|领导|经理|主任|负责人|投诉|机器人|机器"
    r"|找(个)?人|(和|跟|叫)(个)?人|详细说|(跟|和|找|让|叫)(你们)?(的)?工作人员|工作人员(跟|和)我"
    r"|(别的|其他的?)(问题|事)"
)
NEGATION: Final = re.compile(r"不|没|未|(?<!特)别(?!的)|无")
CONCESSION: Final = re.compile(r"但是|可是|但|不过|就是|其实|实际上|只是")
BASIC: Final = re.compile(
    r"基本|大体|大致|还算|比较满意|差不多|总体|整体|大部分|总的来说|算是"
)
LUKEWARM: Final = re.compile(r"还行|一般|凑合|马马虎虎|过得去|就那样|还好吧|还可以|将就")
ECHO: Final = re.compile(r"满意(吗|么|嘛|不)|满不满意|是否满意")


@dataclass(frozen=True)
class Cues:
    """What the layer found; each field is the matched text (None: not found)."""

    negative: str | None = None
    handoff: str | None = None
    doubt: str | None = None
    concession: str | None = None
    basic: str | None = None
    lukewarm: str | None = None
    echo: str | None = None


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(0) if match else None


def read_cues(normalized: str) -> Cues:
    """The cues of a normalised transcript (see the module docstring)."""
    echo = _first(ECHO, normalized)
    masked = POSITIVE_IDIOMS.sub("好", ECHO.sub("", normalized))
    parts = clauses(masked)
    concession: str | None = None
    after = ""  # what follows the concession marker
    for index, clause in enumerate(parts):
        marker = CONCESSION.search(clause)
        if marker and (index or marker.start() > 0):
            concession = marker.group(0)
            after = clause[marker.end():] + "".join(parts[index + 1:])
            break
    # "满意是满意，…" (X是X): the reservation comes in the next clause whatever its marker.
    if concession is None and len(parts) > 1 and re.search(r"(.{1,4})是\1", parts[0]):
        concession, after = "是…，…", "".join(parts[1:])
    negative = _first(NEGATIVE, masked)
    if negative is None and concession and NEGATION.search(after):
        negative = f"{concession}…{NEGATION.search(after).group(0)}"  # type: ignore[union-attr]
    return Cues(
        negative=negative,
        handoff=_first(HANDOFF, masked),
        doubt=_first(NEGATION, masked) if negative is None else None,
        concession=concession,
        basic=_first(BASIC, normalized),
        lukewarm=_first(LUKEWARM, masked),
        echo=echo,
    )
