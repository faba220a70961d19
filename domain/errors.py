"""Domain errors. Every message is bilingual: the hotline staff read Chinese, integrators English."""

from __future__ import annotations

import unicodedata

# Characters that would garble or break a printed message: controls (NUL, ESC...), lone
# surrogates (what undecodable bytes in argv become), invisible format characters (bidi
# overrides, zero-width spaces) and line/paragraph separators.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})
SHOWN_LIMIT = 40


def _escaped(ch: str) -> str:
    if unicodedata.category(ch) in _UNPRINTABLE_CATEGORIES:
        return ch.encode("unicode_escape").decode("ascii")  # \x00, \udcff, \u202e
    return ch


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """A user-supplied value as it may appear inside a message: unprintable characters
    escaped, cut to its first `limit` characters + "…" (a 10,000-character ticket number
    must not flood a terminal or a log line)."""
    text = value if isinstance(value, str) else str(value)
    head = "".join(_escaped(ch) for ch in text[:limit])
    return head + "…" if len(text) > limit else head


def printable(message: str) -> str:
    """The message with unprintable characters escaped, newlines kept: every front end can
    print or encode it (a lone surrogate cannot be written as UTF-8 at all)."""
    return "".join(ch if ch == "\n" else _escaped(ch) for ch in message)


class DomainError(Exception):
    """Base class: a command was refused and nothing was recorded."""

    def __init__(self, zh: str, en: str) -> None:
        # Messages quote user input; whatever a caller forgot to pass through shown(), the
        # message stays printable (stderr, JSON on stdout, gRPC trailers).
        zh, en = printable(zh), printable(en)
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


class InvalidInput(DomainError):
    """A field of a command is malformed or missing."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.field = field


class IllegalTransition(DomainError):
    """The lifecycle machine does not allow this command in the order's current state."""

    def __init__(self, ticket_no: str, state: str, command: str, allowed: list[str]) -> None:
        allowed_zh = "、".join(allowed) if allowed else "无"
        super().__init__(
            f"工单 {shown(ticket_no)} 当前状态为“{state}”，不能执行“{command}”；"
            f"允许的操作：{allowed_zh}",
            f"work order {shown(ticket_no)} is in state {state}; command {command} is not allowed "
            f"(allowed: {', '.join(allowed) or 'none'})",
        )
        self.ticket_no = ticket_no
        self.state = state
        self.command = command
        self.allowed = allowed


class UnknownTicket(DomainError):
    def __init__(self, ticket_no: str) -> None:
        super().__init__(f"工单 {shown(ticket_no)} 不存在",
                         f"work order {shown(ticket_no)} does not exist")
        self.ticket_no = ticket_no


class UnknownDepartment(InvalidInput):
    def __init__(self, name: str, field: str = "dept") -> None:
        super().__init__(
            field,
            f"未知单位“{shown(name)}”（不在单位名录中）",
            f"unknown department '{shown(name)}' (not in the department registry)",
        )
        self.name = name


class NotResponsible(DomainError):
    """A unit acted on an order it is not the lead unit of."""

    def __init__(self, ticket_no: str, dept: str, lead: str | None) -> None:
        super().__init__(
            f"单位“{shown(dept)}”不是工单 {shown(ticket_no)} 的主办单位（主办：{lead or '无'}）",
            f"department '{shown(dept)}' is not the lead unit of work order {shown(ticket_no)} "
            f"(lead: {lead})",
        )
        self.ticket_no = ticket_no
        self.dept = dept


class PersonalDataUnavailable(DomainError):
    """The vault cannot open personal data (no key-encryption key, or the wrong one):
    everything else works; intake and erasure, which need the keys, are refused."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"个人信息不可用：{zh}", f"personal data unavailable: {en}")
        self.reason_zh = zh
        self.reason_en = en


class UnknownCitizen(DomainError):
    """No citizen in the vault has this phone number (never called, or already erased)."""

    def __init__(self, masked_phone: str) -> None:
        super().__init__(f"个人信息库中没有来电号码 {masked_phone} 的市民（从未来电或已删除）",
                         f"no citizen with phone {masked_phone} in the vault (never called, "
                         "or already erased)")
        self.masked_phone = masked_phone


class PermissionDenied(DomainError):
    """An authenticated identity asked for something its role may not do (domain/access)."""


class Unauthenticated(DomainError):
    """No credential, or one that is malformed, unknown, expired or revoked."""
