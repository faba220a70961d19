"""The command catalogue: every command staff issue on a work order, defined once.

Each entry names the application-service handler, the Chinese label, the default actor
role (and whose id acts when none is given), and its fields with their types. The CLI
(tools/cli.py), the gRPC TicketService (adapters/grpc/services.py), the `--grpc` remote
client (adapters/grpc/client.py) and docs/commands.md are generated from it; tests check
that every entry has its CLI command, RPC, request fields, BDD step and doc line.

Adding a command = one entry here + one aggregate method with its event + one handler
on WorkOrderService + one request/response pair in proto/rexian/ticket/v1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.values import CALLBACK_RESULTS, CATEGORIES, CHANNELS, URGENCIES

# "flag" and "file" are used by the campaign catalogue (domain/campaign/commands.py): a
# switch, and a file (a path on the CLI, its bytes over gRPC).
FieldKind = Literal["text", "texts", "int", "instant", "flag", "file"]


@dataclass(frozen=True)
class Field:
    """One argument of a command: the handler's keyword, its type and what staff see."""

    name: str
    kind: FieldKind
    label: str
    help: str = ""
    required: bool = True
    default: str | None = None  # for optional text fields: the value when not given
    # Free text that may hold personal data (a phone, an ID number...): the handler masks
    # it before recording and seals what it found for the caller (domain/free_text.py).
    free_text: bool = False


@dataclass(frozen=True)
class CommandSpec:
    """A staff command on work orders."""

    name: str  # the WorkOrderService handler
    cli: str  # the CLI command
    rpc: str  # the TicketService method (request/response messages are <rpc>Request/Response)
    label: str  # 中文名
    summary: str  # one line of help
    role: str  # default actor role
    actor_id: str  # default actor id; "{dept}" means the acting unit's name
    fields: tuple[Field, ...]
    ticket: bool = True  # takes the ticket number (intake makes one)

    def default_actor_id(self, values: dict[str, object]) -> str:
        if self.actor_id == "{dept}":
            return str(values.get("dept") or "department")
        return self.actor_id


def _choices(values: tuple[str, ...]) -> str:
    return "/".join(values)


DEPT = Field("dept", "text", "单位", "Unit name from the registry")
ASSIST = Field("assist", "texts", "协办单位", "Assisting unit (协办), repeatable",
               required=False)
REASON = Field("reason", "text", "理由", "Reason (mandatory)", free_text=True)
REPLY = Field("reply", "text", "答复", "The reply given to the citizen", free_text=True)

CATALOGUE: tuple[CommandSpec, ...] = (
    CommandSpec("intake", "intake", "Intake", "受理", "Register a work order (受理).",
                "agent", "agent", (
                    Field("channel", "text", "受理渠道", _choices(CHANNELS)),
                    Field("category", "text", "诉求类别", _choices(CATEGORIES)),
                    Field("region", "text", "所属区域", "Region, e.g. 甬江区东湖街道"),
                    Field("caller_name", "text", "来电人姓名", "The caller's name"),
                    Field("caller_phone", "text", "来电号码", "The caller's phone number"),
                    Field("content", "text", "诉求内容", "The citizen's request", free_text=True),
                    Field("urgency", "text", "紧急程度", _choices(URGENCIES), required=False,
                          default=URGENCIES[0]),
                ), ticket=False),
    CommandSpec("answer", "answer", "Answer", "直接答复",
                "Answer a 咨询 directly at intake (直接答复 → 已办结).", "agent", "agent",
                (REPLY,)),
    CommandSpec("dispatch", "dispatch", "Dispatch", "派单",
                "Dispatch to a lead unit (主办) with optional assisting units (派单).",
                "dispatcher", "centre", (DEPT, ASSIST)),
    CommandSpec("redispatch", "redispatch", "Redispatch", "改派",
                "Re-dispatch a returned order (改派), to another or the same unit.",
                "dispatcher", "centre", (DEPT, REASON, ASSIST)),
    CommandSpec("sign", "sign", "Sign", "签收",
                "The lead unit signs for the order (签收 → 办理中).", "department", "{dept}",
                (DEPT,)),
    CommandSpec("return_order", "return", "Return", "退单",
                "The lead unit returns the order with a reason (退单 → 已退回).",
                "department", "{dept}", (DEPT, REASON)),
    CommandSpec("reject_return", "reject-return", "RejectReturn", "退单异议驳回",
                "Reject a return after dispute review (退单异议审核 → 办理中, same unit).",
                "dispatcher", "centre", (REASON,)),
    CommandSpec("transfer", "transfer", "Transfer", "一键互转",
                "Cross-region one-click transfer (一键互转 → 已转办).", "dispatcher", "centre", (
                    Field("hotline", "text", "接收热线", "Receiving hotline, e.g. 北京12345"),
                    Field("reference", "text", "对方工单号", "The receiving hotline's number"),
                    REASON,
                )),
    CommandSpec("request_extension", "extend", "RequestExtension", "申请延期",
                "The lead unit requests an extension (申请延期).", "department", "{dept}", (
                    DEPT, Field("days", "int", "延期天数", "Working days requested"), REASON)),
    CommandSpec("approve_extension", "approve-extension", "ApproveExtension", "批准延期",
                "Approve the pending extension (批准延期): the due date moves.",
                "dispatcher", "centre",
                (Field("note", "text", "审批意见", "Approval note", required=False,
                       default="", free_text=True),)),
    CommandSpec("deny_extension", "deny-extension", "DenyExtension", "驳回延期",
                "Deny the pending extension (驳回延期): nothing else changes.",
                "dispatcher", "centre", (REASON,)),
    CommandSpec("resolve", "resolve", "Resolve", "办结",
                "The lead unit replies and completes (办结 → 已办结).", "department", "{dept}",
                (DEPT, Field("reply", "text", "办理答复", "The unit's reply", free_text=True))),
    CommandSpec("record_callback", "callback", "RecordCallback", "回访",
                "Record the callback result (回访): 满意/基本满意 archive, 不满意 reopens (重办).",
                "agent", "agent", (
                    Field("result", "text", "回访结果", _choices(CALLBACK_RESULTS)),
                    Field("comment", "text", "回访意见", "The citizen's comment",
                          required=False, default="", free_text=True),
                )),
    CommandSpec("withdraw", "withdraw", "Withdraw", "撤单",
                "Withdraw the order (撤单 → 已撤销).", "dispatcher", "centre", (REASON,)),
    CommandSpec("merge", "merge", "Merge", "并单",
                "Merge a duplicate into a master order (并单 → 已合并; the master keeps a link).",
                "dispatcher", "centre",
                (Field("into", "text", "主工单号", "Master order number"), REASON)),
    CommandSpec("report_plan", "plan", "ReportPlan", "反馈处理计划",
                "The lead unit reports its handling plan after a reminder (反馈处理计划).",
                "department", "{dept}", (
                    DEPT,
                    Field("eta", "instant", "预计完成时间", "Expected completion (ISO 8601)"),
                    Field("note", "text", "处理计划", "The handling plan", free_text=True),
                )),
)

BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in CATALOGUE}
