"""The step registry: every step phrase is declared through the decorators below.

Each decorator records the phrase, its docstring and its theme (the module's
docstring) in ``REGISTRY``, then binds the function with pytest-bdd. The
vocabulary (features/步骤词汇.md, tools/vocabulary.py) is rendered from
``REGISTRY``, so a phrase cannot exist without being documented.

Kinds of step:
- ``given`` / ``then``: a precondition (假如) / an expected result (那么).
- ``action``: a command on the engine. As 假如 it is a precondition and must
  succeed; as 当 its outcome is recorded (a refused command keeps its DomainError
  in the scenario's World, for ``那么 操作被拒绝……``).
- ``anytime``: usable with every keyword (e.g. setting the clock).

Phrases use parse's ``{name}`` fields. A field in double quotes (``"{dept}"``)
matches any text without a double quote, the empty text included; every other
field needs an explicit type (``{days:d}``). Each field name must be explained in
``PARAMETERS``.

The docstring of a step function is one line: ``meaning。例：<keyword> <step text>``.

Adding steps (e.g. a new theme such as escalation): create tests/bdd/steps/<theme>.py
whose module docstring's first line is the theme title shown in the vocabulary,
declare steps with the decorators below (steps receive the ``world`` fixture), add
the module to ``STEP_MODULES`` in tests/bdd/steps/__init__.py, explain any new
parameter name in ``PARAMETERS``, use every new phrase in some features/*.feature,
and regenerate the vocabulary: ``python -m tools.vocabulary > features/步骤词汇.md``.
tests/bdd/test_vocabulary.py fails until all of that is done.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from parse import with_pattern
from pytest_bdd import parsers
from pytest_bdd import step as bdd_step

from domain.values import CALLBACK_RESULTS, CATEGORIES, CHANNELS, URGENCIES

Kind = Literal["given", "when", "then"]
F = TypeVar("F", bound=Callable[..., Any])

KEYWORDS: dict[Kind, str] = {"given": "假如", "when": "当", "then": "那么"}
# Primary keywords accepted in the example of a docstring, per kind.
EXAMPLE_KEYWORDS: dict[str, Kind] = {"假如": "given", "假设": "given", "假定": "given",
                                     "当": "when", "那么": "then"}
EXAMPLE_MARK = "例："

# Parameter glossary: field name -> (label shown to business staff, meaning).
PARAMETERS: dict[str, tuple[str, str]] = {
    "moment": ("时间", "北京时间，格式 YYYY-MM-DD HH:MM 或 YYYY-MM-DD HH:MM:SS"),
    "name": ("姓名", "来电市民姓名"),
    "phone": ("电话", "来电号码：大陆手机号或带区号的固定电话（如 0574-88888888）"),
    "content": ("诉求", "市民反映的诉求内容"),
    "category": ("类别", "诉求类别：" + "、".join(CATEGORIES)),
    "channel": ("渠道", "受理渠道：" + "、".join(CHANNELS)),
    "urgency": ("紧急程度", "紧急程度：" + "、".join(URGENCIES)),
    "dept": ("单位", "单位名称，应为单位名录（config/departments.toml）中的单位，如 区城管局；"
                     "写名录外的名称可检验“未知单位”"),
    "assists": ("协办单位", "一个或多个单位名称，用顿号“、”分隔"),
    "reason": ("理由", "操作理由，可为空（用于检验“理由不能为空”）"),
    "reply": ("答复", "答复或办理结果的文字"),
    "hotline": ("接收热线", "接收转办的外地热线名称"),
    "reference": ("对方工单号", "接收热线给出的工单号"),
    "days": ("天数", "工作日天数（整数）"),
    "note": ("意见", "审批意见"),
    "result": ("回访结果", "回访结果：" + "、".join(CALLBACK_RESULTS)),
    "comment": ("回访意见", "市民在回访中的意见"),
    "alias": ("代号", "场景内给工单起的代号，如 甲、乙（工单编号由系统生成）"),
    "state": ("状态", "工单状态，如 已受理、已派单、办理中、已退回、已办结、已归档、已撤销、"
                     "已合并、已转办；子状态写作 办理中/延期审批中"),
    "text": ("提示", "拒绝提示中应出现的文字"),
    "flag": ("标记", "工单标记，如 未回访"),
    "count": ("数量", "整数"),
    "ticket": ("工单编号", "系统生成的工单编号：受理日期 + 当日 4 位序号，如 202509300001"),
    "decision": ("审批结果", "批准 或 驳回"),
    "masked_name": ("显示姓名", "脱敏后的姓名，如 张*"),
    "masked_phone": ("显示电话", "脱敏后的电话，如 138****8000"),
    "step": ("督办步骤", "到期检查执行的一步：临期提醒、一级催办、超期督办、通报，或时限修订"
                        "（工作日历更新后重新计算时限）"),
    "level": ("督办等级", "0 未升级（含只发了临期提醒），1 一级催办，2 超期督办，3 通报"),
    "sla": ("时限状态", "正常、临期（到期日零点起，紧急件到期前 4 小时起）、超期（到期时刻起）"),
    "kind": ("督办单类型", "超期督办（到期未办结）或 重办督办（回访不满意）"),
    "eta": ("预计完成时间", "单位反馈的预计完成时间，北京时间，格式同“时间”"),
    "plan": ("计划说明", "单位反馈的处理计划内容"),
    "basis": ("时限依据", "正式（按国务院节假日安排计算）或 暂定（该年安排尚未发布，按法定假日计算）"),
    "notice": ("通知", "国务院办公厅节假日安排通知的文本文件名（tests/fixtures/notices/ 下，"
                       "不含 .txt），如 2027-样例"),
    "day": ("日期", "日期，格式 YYYY-MM-DD"),
    "day_kind": ("日子类型", "工作日 或 休息日"),
    "windows": ("呼叫时段", "北京时间 HH:MM-HH:MM，多个用顿号“、”分隔，如 09:00-12:00、14:00-20:00"),
    "minutes": ("分钟数", "重呼间隔的分钟数（整数）"),
    "lines": ("线路数", "同时进行的呼叫上限（整数）"),
    "number": ("序号", "联系人在名单中的序号，从 1 开始"),
    "outcome": ("呼叫结果", "已接通、未接通、忙、空号、停机、关机、拒接"),
    "campaign_state": ("外呼任务状态", "草稿、已排期、进行中、已暂停、已完成、已取消"),
    "line": ("线路", "来电拨打的号码（config/inbound.toml）：12345、12333 人社、12329 公积金、"
                     "96345 老年一键通"),
    "speech": ("来电人说的话", "来电人这一轮说的话（语音识别后的文字）"),
    "key": ("知识库条目", "知识库条目编号，如 KB-YB-001"),
    "questionnaire": ("问卷文件", "民意调研的问卷 TOML 文件名（tests/fixtures/campaign/ 下），如 "
                                  "垃圾分类调查.toml"),
    "estate": ("小区", "联系人名单“小区”列的值；开出的工单以它为所属区域"),
    "replies": ("市民回答", "市民对各题的回答，按提问顺序以顿号分隔；“（听不清）”是机器人无法归入答案集的回答"),
    "answers": ("问卷回答", "记录的回答，按提问顺序，“问题编号=答案”以顿号分隔，听不清两次的写作 未识别"),
    "contact_state": ("联系人状态", "待呼、呼叫中、已接通、未接通、忙、空号、停机、关机、拒接、待重试、已完成"),
}

_FIELD = re.compile(r"\{([^{}:]*)(?::([^{}]*))?\}")


@with_pattern(r'[^"]*')
def _quoted(text: str) -> str:
    return text


@dataclass(frozen=True)
class StepSpec:
    """One step phrase as declared in a step module."""

    phrase: str
    kinds: tuple[Kind, ...]
    func: Callable[..., Any]
    module: str
    parser: parsers.parse

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()

    @property
    def meaning(self) -> str:
        return self.doc.partition(EXAMPLE_MARK)[0].strip()

    @property
    def example(self) -> str:
        return self.doc.partition(EXAMPLE_MARK)[2].strip()

    @property
    def params(self) -> list[str]:
        return [m.group(1) for m in _FIELD.finditer(self.phrase)]

    @property
    def theme(self) -> str:
        doc = sys.modules[self.module].__doc__ or self.module
        return doc.strip().splitlines()[0].rstrip("。.")

    def display(self) -> str:
        """The phrase with Chinese parameter labels: `"{单位}"签收工单`."""
        return _FIELD.sub(lambda m: "{" + PARAMETERS[m.group(1)][0] + "}", self.phrase)

    def matches(self, text: str) -> bool:
        return self.parser.is_matching(text)


REGISTRY: list[StepSpec] = []


def make_parser(phrase: str) -> parsers.parse:
    """parse parser of `phrase`, with quoted fields restricted to text without quotes."""
    for match in _FIELD.finditer(phrase):
        name, fmt = match.group(1), match.group(2)
        if name not in PARAMETERS:
            raise ValueError(f"step {phrase!r}: parameter {name!r} is missing from PARAMETERS")
        quoted = phrase[match.start() - 1:match.start()] == '"' == phrase[match.end():match.end() + 1]
        if fmt is None and not quoted:
            raise ValueError(f"step {phrase!r}: unquoted parameter {name!r} needs a type")
    pattern = re.sub(r'"\{(\w+)\}"', r'"{\1:Q}"', phrase)
    return parsers.parse(pattern, extra_types={"Q": _quoted})


Binder = Callable[[Callable[..., Any], parsers.parse], None]


def _register(phrase: str, kinds: tuple[Kind, ...], bind: Binder) -> Callable[[F], F]:
    if any(spec.phrase == phrase for spec in REGISTRY):
        raise ValueError(f"step phrase declared twice: {phrase!r}")
    parser = make_parser(phrase)

    def decorator(func: F) -> F:
        REGISTRY.append(StepSpec(phrase, kinds, func, func.__module__, parser))
        bind(func, parser)
        return func

    return decorator


# pytest-bdd puts its step fixture into the module that called its decorator; from
# a binder that is: get_caller_module_locals <- pytest-bdd's decorator <- the binder
# <- our decorator <- the step module, hence stacklevel=3.
_STACK = 3


def _binder(kind: Kind | None) -> Binder:
    def bind(func: Callable[..., Any], parser: parsers.parse) -> None:
        bdd_step(parser, kind, stacklevel=_STACK)(func)

    return bind


def given(phrase: str) -> Callable[[F], F]:
    """A precondition (假如/假设)."""
    return _register(phrase, ("given",), _binder("given"))


def then(phrase: str) -> Callable[[F], F]:
    """An expected result (那么)."""
    return _register(phrase, ("then",), _binder("then"))


def anytime(phrase: str) -> Callable[[F], F]:
    """A step valid with every keyword (假如、当、那么)."""
    return _register(phrase, ("given", "when", "then"), _binder(None))


def query(phrase: str) -> Callable[[F], F]:
    """A read-only operation (当) whose result later 那么 steps inspect."""
    return _register(phrase, ("when",), _binder("when"))


def action(phrase: str) -> Callable[[F], F]:
    """A command on the engine: 假如 (must succeed) or 当 (outcome recorded in the World)."""

    def bind(func: Callable[..., Any], parser: parsers.parse) -> None:
        bdd_step(parser, "given", stacklevel=_STACK)(func)

        @functools.wraps(func)
        def attempt(world: Any, **kwargs: Any) -> None:
            world.attempt(lambda: func(world=world, **kwargs))

        bdd_step(parser, "when", stacklevel=_STACK)(attempt)

    return _register(phrase, ("given", "when"), bind)


def keywords(spec: StepSpec) -> str:
    return " / ".join(KEYWORDS[kind] for kind in spec.kinds)
