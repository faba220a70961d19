"""Closed vocabularies of the hotline domain (Chinese values are data, shown to users)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import InvalidInput, shown

CATEGORIES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
URGENCIES = ("一般", "紧急")
CHANNELS = ("电话", "网站", "APP", "微信", "短信", "小程序", "外呼")  # 外呼: opened by a campaign call
CALLBACK_RESULTS = ("满意", "基本满意", "不满意", "无法联系")
SATISFIED_RESULTS = ("满意", "基本满意")
# Dial outcomes: 空号 (number does not exist) and 停机 (suspended) are never retried.
CALL_OUTCOMES = ("answered", "no_answer", "busy", "空号", "停机")
ROLES = ("agent", "dispatcher", "supervisor", "department", "citizen", "robot", "system",
         "auditor", "admin")


# Free text may span lines (a web form's 诉求内容); identifiers never do.
_TEXT_WHITESPACE = frozenset("\t\n\r")
# Bidi embeddings, overrides and isolates reorder the text after them on screen: a reason or
# a unit name could read differently from what is stored ("Trojan Source", CVE-2021-42574).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Identifiers are compared character for character: an invisible character (zero-width
# space, BOM, RLM) would make two names that look the same differ.
_IDENTIFIER_REFUSED = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})
# Any instant the engine converts (UTC, Beijing time) stays inside datetime's range.
EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2999, 12, 31, tzinfo=UTC)


def require_choice(field: str, value: str, choices: tuple[str, ...], label_zh: str) -> str:
    if value not in choices:
        raise InvalidInput(
            field,
            f"{label_zh}“{shown(value)}”无效，可选：{'、'.join(choices)}",
            f"invalid {field} '{shown(value)}'; expected one of {', '.join(choices)}",
        )
    return value


def _position(text: str, index: int) -> tuple[str, str]:
    return f"第 {index + 1} 个字符", f"at character {index + 1}"


def check_characters(field: str, text: str, label_zh: str, *, identifier: bool = False) -> None:
    """Refuse characters no front end may store: undecodable input (argv's lone surrogates),
    control characters (NUL, ESC...; free text may hold TAB and line breaks), bidi controls;
    in identifiers also invisible format characters and line separators."""
    if text.isprintable():
        return  # no control, format, separator or surrogate character: nothing to refuse
    for index, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch.isprintable() or (category == "Cc" and not identifier
                                and ch in _TEXT_WHITESPACE):
            continue
        where_zh, where_en = _position(text, index)
        if category == "Cs":
            # surrogateescape maps an undecodable byte B to U+DC00 + B.
            byte = f"0x{ord(ch) - 0xDC00:02X}" if 0xDC80 <= ord(ch) <= 0xDCFF else "?"
            raise InvalidInput(
                field, f"{label_zh}含有无效的 UTF-8 字节 {byte}（{where_zh}）",
                f"{field} is not valid UTF-8 (undecodable byte {byte} {where_en})")
        if ch in _BIDI_CONTROLS or (category == "Cc" and (identifier
                                                            or ch not in _TEXT_WHITESPACE)):
            code = f"U+{ord(ch):04X}"
            raise InvalidInput(field, f"{label_zh}含有控制字符 {code}（{where_zh}）",
                               f"{field} contains control character {code} {where_en}")
        if identifier and category in _IDENTIFIER_REFUSED:
            code = f"U+{ord(ch):04X}"
            raise InvalidInput(field, f"{label_zh}含有不可见字符 {code}（{where_zh}）",
                               f"{field} contains invisible character {code} {where_en}")


def _blank(text: str) -> bool:
    """Nothing a reader would see: whitespace and invisible format characters only."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def _checked(field: str, value: str | None, label_zh: str, max_len: int, *,
             identifier: bool, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(field, f"{label_zh}应为文本", f"{field} must be text")
    text = (value or "").strip()
    if len(text) > max_len:  # first: a huge value is refused without scanning it
        raise InvalidInput(
            field,
            f"{label_zh}过长（最多 {max_len} 字）",
            f"{field} is too long (max {max_len} characters)",
        )
    check_characters(field, text, label_zh, identifier=identifier)
    if _blank(text):
        if required:
            raise InvalidInput(field, f"{label_zh}不能为空", f"{field} must not be empty")
        return ""
    return text


def require_text(field: str, value: str | None, label_zh: str, max_len: int = 4000) -> str:
    """Mandatory free text, stripped: refused when empty, blank (only whitespace or invisible
    characters), too long, undecodable or holding control characters."""
    return _checked(field, value, label_zh, max_len, identifier=False, required=True)


def optional_text(field: str, value: str | None, label_zh: str, max_len: int = 4000) -> str:
    """Optional free text (a note, a comment): "" when absent or blank, else as require_text."""
    return _checked(field, value, label_zh, max_len, identifier=False, required=False)


def require_identifier(field: str, value: str | None, label_zh: str, max_len: int = 200) -> str:
    """A mandatory one-line name or number (actor id, unit name, ticket number): as
    require_text, and no line breaks, tabs or invisible characters."""
    return _checked(field, value, label_zh, max_len, identifier=True, required=True)


def require_ticket_no(value: str | None, field: str = "ticket_no") -> str:
    """A ticket number as typed. Well-formed but unknown numbers are not refused here: the
    store answers UnknownTicket (its message shows only the first characters)."""
    return _checked(field, value, "工单号", 10**6, identifier=True, required=True)


def require_instant(field: str, value: datetime) -> datetime:
    """An instant within 1900–2999 (an aware datetime): far enough for any drill, and every
    conversion to UTC or Beijing time stays representable."""
    if value.tzinfo is None or not EARLIEST_INSTANT <= value <= LATEST_INSTANT:
        raise InvalidInput(field, f"时间 {shown(value.isoformat())} 超出范围（1900–2999 年）",
                           f"{field} {shown(value.isoformat())} is out of range (years "
                           "1900-2999, with a time zone)")
    return value


@dataclass(frozen=True)
class Actor:
    """Who did it: a role and an id (agent number, department name, robot id...)."""

    role: str
    id: str

    def __post_init__(self) -> None:
        require_choice("actor_role", self.role, ROLES, "操作人角色")
        require_identifier("actor_id", self.id, "操作人", max_len=200)

    @classmethod
    def parse(cls, text: str, default_role: str) -> Actor:
        """`role:id` or a bare id (then the command's default role applies)."""
        role, sep, ident = text.partition(":")
        if sep and role in ROLES:
            return cls(role, ident)
        return cls(default_role, text)
