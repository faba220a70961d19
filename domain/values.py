"""Closed vocabularies of the hotline domain (Chinese values are data, shown to users)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidInput

CATEGORIES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
URGENCIES = ("一般", "紧急")
CHANNELS = ("电话", "网站", "APP", "微信", "短信", "小程序")
CALLBACK_RESULTS = ("满意", "基本满意", "不满意", "无法联系")
SATISFIED_RESULTS = ("满意", "基本满意")
# Dial outcomes: 空号 (number does not exist) and 停机 (suspended) are never retried.
CALL_OUTCOMES = ("answered", "no_answer", "busy", "空号", "停机")
ROLES = ("agent", "dispatcher", "department", "citizen", "robot", "system", "auditor")


def require_choice(field: str, value: str, choices: tuple[str, ...], label_zh: str) -> str:
    if value not in choices:
        raise InvalidInput(
            field,
            f"{label_zh}“{value}”无效，可选：{'、'.join(choices)}",
            f"invalid {field} {value!r}; expected one of {', '.join(choices)}",
        )
    return value


def require_text(field: str, value: str | None, label_zh: str, max_len: int = 4000) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, f"{label_zh}不能为空", f"{field} must not be empty")
    if len(text) > max_len:
        raise InvalidInput(
            field,
            f"{label_zh}过长（最多 {max_len} 字）",
            f"{field} is too long (max {max_len} characters)",
        )
    return text


@dataclass(frozen=True)
class Actor:
    """Who did it: a role and an id (agent number, department name, robot id...)."""

    role: str
    id: str

    def __post_init__(self) -> None:
        require_choice("actor_role", self.role, ROLES, "操作人角色")
        require_text("actor_id", self.id, "操作人", max_len=200)

    @classmethod
    def parse(cls, text: str, default_role: str) -> Actor:
        """`role:id` or a bare id (then the command's default role applies)."""
        role, sep, ident = text.partition(":")
        if sep and role in ROLES:
            return cls(role, ident)
        return cls(default_role, text)
