"""呼入智能客服：老年一键通与重点来电人直转人工、打错线路内部转接、方言转人工、两次未听懂转人工、知识库答复。"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adapters.inbound.desk import InboundDesk, Reply
from adapters.kb import kb_desk
from tests.bdd.registry import given, query, then
from tests.bdd.world import CENTRE, World

SAMPLE_KB = Path(__file__).resolve().parents[2] / "fixtures" / "kb" / "sample.md"


@dataclass
class Scene:
    desk: InboundDesk | None = None
    call: str = ""
    calls: int = 0
    replies: list[Reply] = field(default_factory=list)

    def last(self) -> Reply:
        assert self.replies, "还没有来电（先写“号码…拨打…来电”）"
        return self.replies[-1]


def scene(world: World) -> Scene:
    found: Scene | None = getattr(world, "inbound_scene", None)
    if found is None:
        found = Scene()
        world.inbound_scene = found  # type: ignore[attr-defined]
    return found


def desk(world: World) -> InboundDesk:
    s = scene(world)
    if s.desk is None:
        s.desk = InboundDesk(world.engine)
    return s.desk


@given("知识库已导入测试条目")
def kb_imported(world: World) -> None:
    """导入 tests/fixtures/kb/sample.md 的知识库条目（异地就医备案、门诊报销、公积金租房提取、身份证补办）。例：假如 知识库已导入测试条目"""
    kb_desk(world.engine).import_file(SAMPLE_KB, actor=CENTRE)


@query('号码"{phone}"拨打"{line}"来电')
def call_in(world: World, phone: str, line: str) -> None:
    """一通呼入电话接入（先按规则判断是否直转人工）。例：当 号码"13812345678"拨打"12345"来电"""
    s = scene(world)
    s.calls += 1
    s.call = f"bdd-{s.calls}"
    s.replies.append(desk(world).start(s.call, caller=phone, line=line))


@query('来电人说"{speech}"')
def caller_says(world: World, speech: str) -> None:
    """来电人说了一句话（识别后的文字），机器人据此应答。例：当 来电人说"叫个人来听电话\""""
    s = scene(world)
    s.replies.append(desk(world).turn(s.call, speech))


@query('来电人说了一句机器人无法处理的方言"{speech}"')
def caller_speaks_dialect(world: World, speech: str) -> None:
    """识别结果不是机器人能处理的普通话。例：当 来电人说了一句机器人无法处理的方言"侬晓得伐\""""
    s = scene(world)
    s.replies.append(desk(world).turn(s.call, speech, mandarin=False))


@then('机器人转接人工，原因包含"{text}"')
def handed_off(world: World, text: str) -> None:
    """本通电话转人工，转接原因含指定文字。例：那么 机器人转接人工，原因包含"老年一键通\""""
    reply = scene(world).last()
    assert reply.step.kind == "handoff", f"机器人没有转人工，而是 {reply.step.kind}"
    assert text in reply.step.reason, reply.step.reason
    assert reply.ended


@then("转人工的排队优先级为{count:d}")
def handoff_priority(world: World, count: int) -> None:
    """转人工时在坐席队列中的优先级（0 最先）。例：那么 转人工的排队优先级为0"""
    assert scene(world).last().step.priority == count


@then("机器人没有播报问候语")
def no_greeting(world: World) -> None:
    """来电直接转人工，机器人只说了“正在为您转接人工服务”。例：那么 机器人没有播报问候语"""
    s = scene(world)
    record = desk(world).record(s.call)
    assert record.said() == ["正在为您转接人工服务，请稍候。"], record.said()


@then('机器人答复并引用知识库条目"{key}"')
def answered_with(world: World, key: str) -> None:
    """机器人用知识库条目答复，通话记录中引用该条目及其版本。例：那么 机器人答复并引用知识库条目"KB-YB-001\""""
    reply = scene(world).last()
    assert reply.step.kind == "answer" and reply.citation, reply.step
    assert reply.citation.startswith(f"{key} v"), reply.citation


@then('机器人把来电转接到"{line}"线路，无需重拨')
def transferred(world: World, line: str) -> None:
    """问题属于另一条热线，机器人内部转接。例：那么 机器人把来电转接到"12329"线路，无需重拨"""
    reply = scene(world).last()
    assert reply.step.kind == "transfer" and reply.step.line is not None, reply.step
    assert reply.step.line.number == line and "无需挂机重拨" in reply.said[0]


@then("机器人请来电人再说一遍")
def reasked(world: World) -> None:
    """机器人没听懂，请来电人再说一遍（不转人工）。例：那么 机器人请来电人再说一遍"""
    reply = scene(world).last()
    assert reply.step.kind == "reask" and reply.listen and not reply.ended
