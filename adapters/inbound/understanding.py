"""What a caller's turn means: 转人工, 结束, 进度查询 (查询 + 工单号), a new request (a draft
order: 智能填单), a policy question (a knowledge-base article valid today), or not
understood. Cues first (a person asked for is never answered by the robot), then the base.

A short follow-up ("要带什么材料？") is searched together with the last answered article's
title: the dialogue keeps that article per call, so the question stays in its topic."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from adapters.asr.intent import parse_progress_query
from adapters.asr.normalize import normalize_transcript
from adapters.kb import KbDesk
from domain.inbound.dialogue import (
    GOODBYE,
    HANDOFF,
    NEW_REQUEST,
    POLICY,
    PROGRESS,
    SMS,
    UNRECOGNISED,
    ArticleRef,
    Draft,
    Heard,
    InboundDialogue,
)
from domain.kb.article import KbArticle

# 转人工, also as callers put it (普通话 and 宁波话 forms: 叫个人来, 人工来听).
HANDOFF_CUE: Final = re.compile(r"[转拽专传赚砖]人工|人工服务|人工客服|找人工|要人工|真人|接线员|"
                                r"话务员|叫个人|找个人|让人来|人来接|人工来|^人工$|帮我.{0,2}人工")
SMS_CUE: Final = re.compile(r"发短信|发个短信|短信发|发到手机|发我手机")
GOODBYE_CUE: Final = re.compile(r"^(没有了|没了|没有其他|没别的|不用了|就这些|好的谢谢|谢谢|再见)")
# A new request names what happened; the first group says its category outright.
CATEGORY_CUES: Final = (("举报", re.compile(r"举报")), ("投诉", re.compile(r"投诉")),
                        ("建议", re.compile(r"建议")), ("表扬", re.compile(r"表扬|感谢.*(帮|办)")),
                        ("求助", re.compile(r"求助|报修|帮帮忙|帮忙处理")))
PROBLEM_CUE: Final = re.compile(r"坏了|不亮|漏水|噪音|太吵|吵得|吵死|拖欠|欠薪|不给工资|臭|堵了|"
                                r"没人管|乱停|占道|违章|停水|停电|垃圾|偷排|扰民|反映")
FOLLOW_UP_MAX: Final = 14  # characters of a turn searched within the last article's topic
DISTRICT: Final = "甬江区"


def article_ref(article: KbArticle, kb: KbDesk) -> ArticleRef:
    titles = []
    for key in article.follow_ups:
        found = kb.valid_article(key)
        if found is not None:  # an expired follow-up is not offered
            titles.append(found.title)
    return ArticleRef(article.key, article.version, article.title, article.domain,
                      article.short_answer, tuple(titles))


def region_of(text: str, streets: tuple[str, ...]) -> str:
    """甬江区, or 甬江区 + the street the caller names (东湖街道, or just 东湖)."""
    for street in streets:
        short = street.removesuffix("街道").removesuffix("镇")
        if street in text or (len(short) >= 2 and short in text):
            return DISTRICT + street
    return DISTRICT


def draft_of(text: str, category: str, streets: tuple[str, ...]) -> Draft:
    return Draft(category=category, region=region_of(text, streets), content=text.strip())


def understand(text: str, dialogue: InboundDialogue, kb: KbDesk, *, streets: tuple[str, ...],
               on: date | None = None, mandarin: bool = True) -> Heard:
    said = text.strip()
    if not said:
        return Heard(UNRECOGNISED, said, mandarin)
    compact = normalize_transcript(said).replace("，", "")  # simplified, no punctuation
    if HANDOFF_CUE.search(compact):
        return Heard(HANDOFF, said, mandarin, draft=dialogue.draft)
    if dialogue.last_article is not None and SMS_CUE.search(compact):
        return Heard(SMS, said, mandarin)
    if len(compact) <= 8 and GOODBYE_CUE.search(compact):
        return Heard(GOODBYE, said, mandarin)
    ticket = parse_progress_query(said)
    if ticket:
        return Heard(PROGRESS, said, mandarin, ticket=ticket)
    for category, cue in CATEGORY_CUES:
        if cue.search(compact):
            return Heard(NEW_REQUEST, said, mandarin, draft=draft_of(said, category, streets))
    found = kb.search(said, limit=1, on=on)["answer"]
    if found is None and dialogue.last_article is not None and len(compact) <= FOLLOW_UP_MAX:
        found = kb.search(f"{dialogue.last_article.title} {said}", limit=1, on=on)["answer"]
    if found is not None:
        article = kb.service.article(found["key"], found["version"])
        return Heard(POLICY, said, mandarin, article=article_ref(article, kb))
    if PROBLEM_CUE.search(compact):
        return Heard(NEW_REQUEST, said, mandarin, draft=draft_of(said, "投诉", streets))
    return Heard(UNRECOGNISED, said, mandarin)
