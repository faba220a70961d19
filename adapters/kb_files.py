"""Knowledge-base files: Markdown (one `## KEY 标题` heading per article, then `- 字段：值`
lines) or XLSX (a header row naming the same fields, one article a row), read into raw
articles for domain/kb/content.py to check.

    ## KB-SB-001 城乡居民养老保险参保登记
    - 领域：社保
    - 问法：怎么参加城乡居民养老保险；没有单位能交养老保险吗
    - 简答：（what the robot says, one or two sentences）
    - 全文：（the full text, sent by SMS on request）
    - 追问：KB-SB-002；KB-SB-003
    - 来源：《…》
    - 有效期：2024-01-01 至 2026-12-31      (either end may be empty)
    - 单位：区人社局

What is wrong with the file itself (not UTF-8, NUL bytes, not a workbook, too big, a line
that is neither a heading nor a known field) is named with its line, like what is wrong
with an article; any problem refuses the whole file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from adapters.uploads import read_upload
from adapters.workbooks import first_sheet_rows
from domain.errors import InvalidInput, shown
from domain.kb.content import KbInvalid, RawArticle

FORMATS: Final = (".md", ".xlsx")
MAX_BYTES: Final = 20 * 1024 * 1024
MAX_ARTICLES: Final = 20_000
# Field labels as a centre writes them -> the content's field names.
FIELDS: Final = {"领域": "domain", "问法": "questions", "简答": "short_answer",
                 "全文": "full_text", "追问": "follow_ups", "来源": "source",
                 "有效期": "validity", "生效日期": "valid_from", "失效日期": "valid_to",
                 "单位": "unit", "编号": "key", "标题": "title"}
_HEADING: Final = re.compile(r"^##\s+(\S+)\s+(\S.*)$")
_FIELD: Final = re.compile(r"^[-*]\s*([^：:]+)[：:]\s*(.*)$")


@dataclass(frozen=True)
class KbFile:
    name: str
    sha256: str
    articles: list[RawArticle]


def _error(name: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput("file", f"知识库文件 {shown(name, 80)} {zh}",
                        f"knowledge-base file {shown(name, 80)}: {en}")


def _validity(fields: dict[str, str]) -> None:
    """`有效期：A 至 B` into valid_from / valid_to."""
    if "validity" in fields:
        start, _, end = fields.pop("validity").partition("至")
        fields.setdefault("valid_from", start.strip())
        fields.setdefault("valid_to", end.strip())


def markdown_articles(name: str, data: bytes) -> list[RawArticle]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        near = data[:error.start].count(b"\n") + 1
        raise _error(name, f"第 {near} 行附近不是 UTF-8 编码",
                     f"is not UTF-8 near line {near}") from None
    if "\x00" in text:
        raise _error(name, "含有 NUL 字节（不是文本文件）", "holds NUL bytes (not a text file)")
    articles: list[RawArticle] = []
    problems: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or (line.startswith("# ") and not articles):
            continue  # blank lines, and the file's title before the first article
        heading = _HEADING.match(line)
        if heading:
            articles.append(RawArticle(f"{name} 第 {number} 行", f"{name} line {number}",
                                       heading.group(1), heading.group(2)))
            continue
        field = _FIELD.match(line)
        label = field.group(1).strip() if field else ""
        if not articles or field is None or label not in FIELDS:
            problems.append((f"第 {number} 行：无法识别“{shown(line, 30)}”（应为 ## 编号 标题，"
                             f"或 - 字段：值）", f"line {number}: {shown(line, 30)!r} is neither "
                             "an article heading nor a known field"))
            continue
        articles[-1].fields[FIELDS[label]] = field.group(2).strip()
    if problems:
        raise KbInvalid(name, problems)
    for article in articles:
        _validity(article.fields)
    return articles


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "isoformat"):  # a date cell
        return str(value.date().isoformat() if hasattr(value, "hour") else value.isoformat())
    return str(value).strip()


def xlsx_articles(name: str, data: bytes) -> list[RawArticle]:
    def fail(zh: str, en: str) -> InvalidInput:
        return _error(name, zh, en)

    with first_sheet_rows(data, fail) as rows:
        header = [FIELDS.get(_cell(v), "") for v in next(rows, ())]
        if "key" not in header or "title" not in header:
            raise fail("表头须含“编号”和“标题”列（及领域、问法、简答、单位……）",
                       "the header row must name 编号 and 标题 (and 领域, 问法, 简答, 单位...)")
        articles: list[RawArticle] = []
        for number, values in enumerate(rows, 2):
            cells = {column: _cell(v) for column, v in zip(header, values, strict=False)
                     if column}
            if not any(cells.values()):
                continue
            if len(articles) >= MAX_ARTICLES:
                raise fail(f"条目过多（最多 {MAX_ARTICLES} 条）",
                           f"has too many articles (max {MAX_ARTICLES})")
            key, title = cells.pop("key", ""), cells.pop("title", "")
            _validity(cells)
            articles.append(RawArticle(f"{name} 第 {number} 行", f"{name} row {number}", key,
                                       title, cells))
        return articles


def read_kb_bytes(name: str, data: bytes) -> KbFile:
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise _error(name, "格式不支持：应为 .md 或 .xlsx", "must be a .md or .xlsx file")
    if len(data) > MAX_BYTES:
        raise _error(name, f"过大（最多 {MAX_BYTES // 1024 // 1024} MB）",
                     f"is too large (max {MAX_BYTES // 1024 // 1024} MB)")
    articles = (xlsx_articles if suffix == ".xlsx" else markdown_articles)(name, data)
    return KbFile(Path(name).name, hashlib.sha256(data).hexdigest(), articles)


def read_kb_file(path: str | Path) -> KbFile:
    return read_kb_bytes(*read_upload(path, MAX_BYTES, _error))
