"""What a knowledge-base article must hold, checked before anything is recorded: every
problem of a file is named with its line (or row), and a file with any is refused whole."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from domain.errors import InvalidInput, shown

CONTENT_FIELDS: Final = ("title", "domain", "questions", "short_answer", "full_text",
                         "follow_ups", "source", "valid_from", "valid_to", "unit")
DOMAINS: Final = ("社保", "医保", "公积金", "户籍", "不动产", "教育", "公租房")
KEY: Final = re.compile(r"^KB-[A-Z]{1,5}-\d{3,5}$")
MAX_SHORT: Final = 200   # characters a robot says in one breath (the rest goes by SMS)
MAX_TEXT: Final = 10_000
MAX_QUESTIONS: Final = 30
MAX_PROBLEMS: Final = 50


@dataclass
class RawArticle:
    """An article as a file gave it, with where it stood (a line or a row), in Chinese and
    in English (e.g. "第 12 行", "line 12")."""
    where: str
    where_en: str
    key: str
    title: str
    fields: dict[str, str] = field(default_factory=dict)


class KbInvalid(InvalidInput):
    def __init__(self, name: str, problems: Sequence[tuple[str, str]]) -> None:
        shown_problems = list(problems[:MAX_PROBLEMS])
        more = len(problems) - len(shown_problems)
        zh = "；".join(p[0] for p in shown_problems) + (f"（另有 {more} 处）" if more else "")
        en = "; ".join(p[1] for p in shown_problems) + (f" (and {more} more)" if more else "")
        super().__init__("file", f"知识库文件 {shown(name, 80)} 有 {len(problems)} 处错误，"
                         f"未导入任何条目：{zh}",
                         f"knowledge-base file {shown(name, 80)} has {len(problems)} "
                         f"problem(s), nothing imported: {en}")
        self.problems = list(problems)


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[；;]", text) if part.strip()]


def _day(text: str, where: tuple[str, str], what: tuple[str, str],
         problems: list[tuple[str, str]]) -> str:
    text = text.strip()
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        problems.append((f"{where[0]}：{what[0]}“{shown(text, 20)}”不是日期 YYYY-MM-DD",
                         f"{where[1]}: {what[1]} {shown(text, 20)!r} is not a date "
                         "YYYY-MM-DD"))
        return ""


def check_articles(name: str, raw: Sequence[RawArticle],
                   known_keys: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The articles' content (questions include the title), or KbInvalid naming every
    problem: a bad key, a repeated key, a missing field, an unknown domain, an overlong
    text, a bad date or validity, a follow-up naming no article (in this file or the base)."""
    problems: list[tuple[str, str]] = []
    if not raw:
        problems.append(("没有条目（## KB-XX-000 标题）", "no articles (## KB-XX-000 title)"))
    keys = {a.key for a in raw} | set(known_keys)
    seen: dict[str, str] = {}
    articles: list[dict[str, Any]] = []
    for a in raw:
        at = f"{a.where}（{shown(a.key, 20)}）"
        en_at = f"{a.where_en} ({shown(a.key, 20)})"
        if not KEY.match(a.key):
            problems.append((f"{at}：编号应形如 KB-SB-001", f"{en_at}: key must look like KB-SB-001"))
        if a.key in seen:
            problems.append((f"{at}：编号与{seen[a.key]}重复", f"{en_at}: key repeated"))
        seen.setdefault(a.key, a.where)
        f = {k: v.strip() for k, v in a.fields.items()}
        for label, name_en in (("领域", "domain"), ("问法", "questions"), ("简答", "short_answer"),
                               ("单位", "unit")):
            if not f.get(name_en):
                problems.append((f"{at}：缺少“{label}”", f"{en_at}: missing {name_en}"))
        if not a.title.strip():
            problems.append((f"{at}：缺少标题", f"{en_at}: missing title"))
        if f.get("domain") and f["domain"] not in DOMAINS:
            problems.append((f"{at}：领域“{shown(f['domain'], 10)}”不在{'、'.join(DOMAINS)}之内",
                             f"{en_at}: unknown domain {shown(f['domain'], 10)!r}"))
        if len(f.get("short_answer", "")) > MAX_SHORT:
            problems.append((f"{at}：简答超过 {MAX_SHORT} 字", f"{en_at}: short answer over "
                             f"{MAX_SHORT} characters"))
        if any(len(f.get(n, "")) > MAX_TEXT for n in ("full_text", "source", "title")):
            problems.append((f"{at}：文字过长（最多 {MAX_TEXT} 字）",
                             f"{en_at}: text too long (max {MAX_TEXT})"))
        questions = _split(f.get("questions", ""))
        if len(questions) > MAX_QUESTIONS:
            problems.append((f"{at}：问法过多（最多 {MAX_QUESTIONS} 个）",
                             f"{en_at}: too many question forms (max {MAX_QUESTIONS})"))
        follow_ups = _split(f.get("follow_ups", ""))
        for link in follow_ups:
            if link not in keys:
                problems.append((f"{at}：追问 {shown(link, 20)} 不存在",
                                 f"{en_at}: follow-up {shown(link, 20)} is no article"))
        valid_from = _day(f.get("valid_from", ""), (at, en_at), ("生效日期", "valid-from"),
                          problems)
        valid_to = _day(f.get("valid_to", ""), (at, en_at), ("失效日期", "valid-to"), problems)
        if valid_from and valid_to and valid_to < valid_from:
            problems.append((f"{at}：失效日期早于生效日期", f"{en_at}: valid-to before valid-from"))
        articles.append({
            "key": a.key, "title": a.title.strip(), "domain": f.get("domain", ""),
            "questions": [a.title.strip(), *questions],
            "short_answer": f.get("short_answer", ""),
            "full_text": f.get("full_text") or f.get("short_answer", ""),
            "follow_ups": follow_ups, "source": f.get("source", ""),
            "valid_from": valid_from, "valid_to": valid_to, "unit": f.get("unit", "")})
    if problems:
        raise KbInvalid(name, problems)
    return articles
