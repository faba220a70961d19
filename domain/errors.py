"""Domain errors. Every message is bilingual: the hotline staff read Chinese, integrators English."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a command was refused and nothing was recorded."""

    def __init__(self, zh: str, en: str) -> None:
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
            f"工单 {ticket_no} 当前状态为“{state}”，不能执行“{command}”；允许的操作：{allowed_zh}",
            f"work order {ticket_no} is in state {state}; command {command} is not allowed "
            f"(allowed: {', '.join(allowed) or 'none'})",
        )
        self.ticket_no = ticket_no
        self.state = state
        self.command = command
        self.allowed = allowed


class UnknownTicket(DomainError):
    def __init__(self, ticket_no: str) -> None:
        super().__init__(f"工单 {ticket_no} 不存在", f"work order {ticket_no} does not exist")
        self.ticket_no = ticket_no


class UnknownDepartment(InvalidInput):
    def __init__(self, name: str, field: str = "dept") -> None:
        super().__init__(
            field,
            f"未知单位“{name}”（不在单位名录中）",
            f"unknown department {name!r} (not in the department registry)",
        )
        self.name = name


class NotResponsible(DomainError):
    """A unit acted on an order it is not the lead unit of."""

    def __init__(self, ticket_no: str, dept: str, lead: str | None) -> None:
        super().__init__(
            f"单位“{dept}”不是工单 {ticket_no} 的主办单位（主办：{lead or '无'}）",
            f"department {dept!r} is not the lead unit of work order {ticket_no} (lead: {lead})",
        )
        self.ticket_no = ticket_no
        self.dept = dept
