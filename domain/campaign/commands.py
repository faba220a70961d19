"""The campaign command catalogue (外呼任务命令): every campaign command, defined once.

Entries have the shape of the work-order catalogue (domain/commands.py: CommandSpec and
Field); `ticket=True` here means the command takes the campaign id (ID). The CLI group
`rexian campaign` (tools/cli_campaign.py), the gRPC CampaignService
(proto/rexian/campaign/v1, adapters/grpc/campaign_service.py) and docs/campaign-commands.md
are generated from it; tests/test_campaign_catalogue.py checks each entry has its CLI
command, RPC, handler and doc line. Command names are stable: the permission matrix
refers to them.
"""

from __future__ import annotations

from domain.campaign.defaults import (
    DEFAULT_AFTER,
    DEFAULT_BUDGET,
    DEFAULT_LINES,
    DEFAULT_PER_MINUTE,
    DEFAULT_WINDOWS,
    KINDS,
)
from domain.commands import CommandSpec, Field

ROLE = "dispatcher"  # the centre's staff run campaigns
ACTOR = "centre"

_REASON = Field("reason", "text", "理由", "Reason (mandatory)")
# Unmasked names and phones: only roles that may reveal (domain/access/permissions.toml),
# with a reason, each reveal recorded in the access log before anything is written.
_REVEAL = (Field("reveal", "flag", "显示个人信息", "Names and phones unmasked (roles that may "
                 "reveal; recorded in the access log)", required=False),
           Field("reason", "text", "查看理由", "Why you reveal them (mandatory with --reveal)",
                 required=False, default=""))

CATALOGUE: tuple[CommandSpec, ...] = (
    CommandSpec("create_campaign", "create", "CreateCampaign", "创建外呼任务",
                "Create a campaign (草稿): notification, broadcast or survey.", ROLE, ACTOR, (
                    Field("kind", "text", "外呼类型", "/".join(KINDS)),
                    Field("name", "text", "任务名称", "The campaign's name"),
                    Field("message", "text", "播报内容", "The message played (notification, "
                          "broadcast); {变量} from the contact file", required=False, default=""),
                    Field("script", "file", "问卷文件", "Survey questionnaire (TOML)",
                          required=False),
                    Field("start", "instant", "开始时间", "Start time (ISO 8601; default: "
                          "when started)", required=False),
                    Field("window", "texts", "呼叫时段", "Calling window HH:MM-HH:MM Beijing "
                          f"time, repeatable (default {' '.join(DEFAULT_WINDOWS)})",
                          required=False),
                    Field("lines", "int", "并发线路数", "Calls at once", required=False,
                          default=str(DEFAULT_LINES)),
                    Field("per_minute", "int", "每分钟呼叫数", "Dials in any 60 seconds",
                          required=False, default=str(DEFAULT_PER_MINUTE)),
                    Field("max_retries", "int", "重呼次数", "Retries per contact, shared by "
                          "every outcome", required=False, default=str(DEFAULT_BUDGET)),
                    Field("no_answer_retry_min", "int", "未接通重呼间隔", "Minutes before "
                          "retrying 未接通", required=False, default=str(DEFAULT_AFTER["未接通"])),
                    Field("busy_retry_min", "int", "忙线重呼间隔", "Minutes before retrying 忙",
                          required=False, default=str(DEFAULT_AFTER["忙"])),
                    Field("off_retry_min", "int", "关机重呼间隔", "Minutes before retrying 关机",
                          required=False, default=str(DEFAULT_AFTER["关机"])),
                    Field("allow_rest_days", "flag", "休息日呼叫", "Also call on weekends and "
                          "official holidays", required=False),
                    Field("sms", "text", "短信内容", "Notification/broadcast: a text "
                          "message sent after the call reached a person (e.g. a link); "
                          "{变量} as in the message", required=False, default=""),
                    Field("dept", "text", "发布单位", "The unit that published the list (from "
                          "the department registry): it may list the campaign's flagged "
                          "numbers with its own token", required=False, default=""),
                ), ticket=False),
    CommandSpec("import_contacts", "import", "ImportContacts", "导入名单",
                "Import contacts from CSV/XLSX (电话 required, 姓名 optional, other columns "
                "are template variables); any invalid row: nothing imported.", ROLE, ACTOR, (
                    Field("file", "file", "名单文件", "CSV (UTF-8) or XLSX"),
                    Field("skip_invalid", "flag", "跳过无效行", "Import the valid rows and "
                          "report the rejected ones", required=False),
                )),
    CommandSpec("start_campaign", "start", "StartCampaign", "启动",
                "Schedule the campaign (已排期); it runs (进行中) from its start time.",
                ROLE, ACTOR, ()),
    CommandSpec("pause_campaign", "pause", "PauseCampaign", "暂停",
                "Pause (已暂停): calls in progress finish, no new dials.", ROLE, ACTOR,
                (Field("reason", "text", "理由", "Why (optional)", required=False,
                       default=""),)),
    CommandSpec("resume_campaign", "resume", "ResumeCampaign", "恢复",
                "Resume a paused campaign (进行中); retries that came due meanwhile go first.",
                ROLE, ACTOR, ()),
    CommandSpec("cancel_campaign", "cancel", "CancelCampaign", "取消",
                "Cancel the campaign (已取消): nobody is called any more.", ROLE, ACTOR,
                (_REASON,)),
    CommandSpec("campaign_status", "status", "GetCampaignStatus", "外呼进度",
                "Progress: contacts, dialled, connected, completed, retries pending, flags, "
                "answers.", ROLE, ACTOR, ()),
    CommandSpec("export_campaign", "export", "ExportCampaign", "导出结果",
                "Export each contact's outcome and answers (one column per survey question) "
                "as CSV/XLSX; personal data masked unless --reveal.",
                ROLE, ACTOR, (Field("file", "file", "导出文件", "Output .csv or .xlsx"),
                              *_REVEAL)),
    CommandSpec("block_number", "block", "BlockNumber", "加入免打扰名单",
                "Put a number on the do-not-call list (imports reject it).", ROLE, ACTOR, (
                    Field("phone", "text", "电话", "Mobile or landline with area code"),
                    _REASON,
                ), ticket=False),
    CommandSpec("campaign_flags", "flags", "ListCampaignFlags", "标记号码",
                "The numbers flagged 空号/停机/… with the evidence, for the department that "
                "published the list (which may list them itself); --csv FILE also writes "
                "them (.csv or .xlsx); masked unless --reveal.", ROLE, ACTOR, (
                    Field("csv", "file", "导出文件", "Also write the list to FILE (.csv or "
                          ".xlsx by its suffix)", required=False),
                    *_REVEAL,
                )),
)

BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in CATALOGUE}
