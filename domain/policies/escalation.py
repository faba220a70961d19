"""What each ladder step does: who is called, with which words, and which orders are issued.

临期 (warning): call the handling unit (report a plan by 18:00) and tell the citizen
the expected completion date. Level 1: no plan by then → call the unit's supervising
department. Level 2 (超期): a supervision order (督办单) to the supervising department.
Level 3: a public notice (通报) for hotline leadership.

A call's ``script`` (recorded in OutboundCallRequested) is everything the robot says on
that call, opening to closing: the robot has no words of its own, so an audit reading the
event reads every word heard. A call that asks the unit to act also records the
acknowledgement request, after which the robot stops to listen (``ACK_REQUEST``).
Scripts recorded before the request and the closing were part of them are said as
recorded, without either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.ports import DepartmentDirectory
from domain.views import SHANGHAI

LEADERSHIP = "热线领导"

# The fixed words around every reminder's message, recorded in the script with it.
OPENING = "您好，这里是12345热线。"
ACK_REQUEST = "收到请回复收到。"  # the robot listens for the answer right after this
CLOSING = "感谢接听，再见。"


def _script(message: str, *, ask_ack: bool) -> str:
    """What the robot says on one call, word for word."""
    return OPENING + message + (ACK_REQUEST if ask_ack else "") + CLOSING


def _local(instant: datetime) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y年%m月%d日%H:%M")


def _report_by(report_by: datetime | None, due_at: datetime) -> str:
    """When the unit must report its plan: the level-1 instant (今日18:00 for normal orders,
    two hours after the warning for 紧急 ones)."""
    if report_by is None:
        return "今日18:00"
    local = report_by.astimezone(SHANGHAI)
    return f"今日{local:%H:%M}" if local.date() <= due_at.astimezone(SHANGHAI).date() \
        else _local(report_by)


def _call(ticket_no: str, n: int, step: str, **fields: Any) -> dict[str, Any]:
    return {"call_id": f"{ticket_no}-{step}-{n}", "target_dept": None, "citizen_id": None,
            "phone": "", **fields}


def compose_step(
    *,
    ticket_no: str,
    step: str,
    clock_no: int,
    lead: str,
    citizen_id: str,
    due_at: datetime,
    departments: DepartmentDirectory,
    supervision_count: int,
    extensions_approved: int = 0,
    report_by: datetime | None = None,
) -> dict[str, Any]:
    """The content of one ladder step: target, notice, supervision order, outbound calls.

    Call ids must be unique per call (the callback queue keys its jobs on them): an
    approved extension re-arms the ladder on the same clock, so its count is part of
    the id once there is one.
    """
    unit = departments.get(lead)
    supervisor = departments.get(unit.supervisor) if unit.supervisor else unit
    due = _local(due_at)
    call_key = f"{step}-c{clock_no}" + (f"-e{extensions_approved}" if extensions_approved else "")
    if step == "warning":
        return {
            "target_dept": lead,
            "notice": f"工单{ticket_no}临期提醒：将于{due}到期",
            "supervision": None,
            "calls": [
                _call(ticket_no, 1, call_key, target_role="department", target_dept=lead,
                      phone=unit.duty_phone, purpose="临期提醒",
                      script=_script(f"工单{ticket_no}将于{due}到期，请于"
                                     f"{_report_by(report_by, due_at)}前反馈处理计划。",
                                     ask_ack=True)),
                _call(ticket_no, 2, call_key, target_role="citizen", citizen_id=citizen_id,
                      purpose="预计办结告知",
                      script=_script(f"您反映的问题（工单{ticket_no}）正在办理中，"
                                     f"预计于{due}前办结。", ask_ack=False)),
            ],
        }
    if step == "level1":
        return {
            "target_dept": supervisor.name,
            "notice": f"工单{ticket_no}承办单位{lead}未按时反馈处理计划，提请{supervisor.name}督促",
            "supervision": None,
            "calls": [
                _call(ticket_no, 1, call_key, target_role="department",
                      target_dept=supervisor.name, phone=supervisor.duty_phone,
                      purpose="督办提醒",
                      script=_script(f"{lead}承办的工单{ticket_no}将于{due}到期，"
                                     "至今未反馈处理计划，请督促办理。", ask_ack=True)),
            ],
        }
    if step == "level2":
        return {
            "target_dept": supervisor.name,
            "notice": f"工单{ticket_no}已超期（期限{due}），向{supervisor.name}发出督办单",
            "supervision": {"no": f"{ticket_no}-DB{supervision_count + 1:02d}",
                            "dept": supervisor.name, "kind": "超期督办",
                            "reason": f"{lead}承办的工单已于{due}超期未办结"},
            "calls": [],
        }
    if step == "level3":
        return {
            "target_dept": None,
            "notice": f"通报：{lead}承办的工单{ticket_no}超期5个工作日仍未办结（期限{due}），"
                      f"报{LEADERSHIP}",
            "supervision": None,
            "calls": [],
        }
    raise ValueError(f"unknown ladder step {step!r}")
