"""Refusals of the campaign commands, as subclasses of the work order's own (so every front
end maps them the same way: NOT_FOUND, FAILED_PRECONDITION, exit 2), with their own words."""

from __future__ import annotations

from domain.errors import DomainError, IllegalTransition, UnknownTicket, shown


class UnknownCampaign(UnknownTicket):
    def __init__(self, ref: str) -> None:
        DomainError.__init__(self, f"外呼任务或外呼对象 {shown(ref)} 不存在",
                             f"campaign or contact {shown(ref)} does not exist")
        self.ticket_no = ref


class IllegalCampaignTransition(IllegalTransition):
    """The campaign's (or a contact's) machine does not allow this in its current state."""

    def __init__(self, subject: str, state: str, command: str, allowed: list[str]) -> None:
        allowed_zh = "、".join(allowed) if allowed else "无"
        DomainError.__init__(
            self,
            f"{shown(subject)} 当前状态为“{state}”，不能执行“{command}”；允许的操作：{allowed_zh}",
            f"{shown(subject)} is in state {state}; {command} is not allowed "
            f"(allowed: {', '.join(allowed) or 'none'})")
        self.ticket_no = subject
        self.state = state
        self.command = command
        self.allowed = allowed
