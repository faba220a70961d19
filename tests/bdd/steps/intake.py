"""受理与派单：市民来电受理、直接答复、派单与协办。"""

from __future__ import annotations

from tests.bdd.registry import action, then
from tests.bdd.world import AGENT, CENTRE, REGION, World, parse_moment, show_moment, split_names


def _intake(world: World, *, name: str, phone: str, content: str, category: str,
            channel: str, urgency: str) -> None:
    world.current = world.engine.service.intake(
        channel=channel, category=category, urgency=urgency, region=REGION, content=content,
        caller_name=name, caller_phone=phone, actor=AGENT)


@action('市民"{name}"（电话"{phone}"）来电反映"{content}"，类别"{category}"')
def call_in(world: World, name: str, phone: str, content: str, category: str) -> None:
    """坐席受理一通来电（渠道电话、紧急程度一般），新工单成为当前工单。例：假如 市民"张三"（电话"13800138000"）来电反映"小区路灯不亮"，类别"求助\""""
    _intake(world, name=name, phone=phone, content=content, category=category,
            channel="电话", urgency="一般")


@action('市民"{name}"（电话"{phone}"）通过"{channel}"反映"{content}"，类别"{category}"，紧急程度"{urgency}"')
def report_via(world: World, name: str, phone: str, channel: str, content: str,
               category: str, urgency: str) -> None:
    """受理一件诉求并指定受理渠道和紧急程度，新工单成为当前工单。例：当 市民"李四"（电话"0574-88888888"）通过"微信"反映"路面塌陷"，类别"求助"，紧急程度"紧急\""""
    _intake(world, name=name, phone=phone, content=content, category=category,
            channel=channel, urgency=urgency)


@action('中心直接答复工单，答复"{reply}"')
def answer(world: World, reply: str) -> None:
    """话务中心不派单、直接答复办结（仅限咨询类）。例：当 中心直接答复工单，答复"办理时间为工作日 9:00-17:00\""""
    world.engine.service.answer(world.ticket, reply=reply, actor=AGENT)


@action('中心将工单派给"{dept}"')
def dispatch(world: World, dept: str) -> None:
    """话务中心把工单派给一个主办单位，办理时限自派单起算。例：当 中心将工单派给"区城管局\""""
    world.engine.service.dispatch(world.ticket, dept=dept, assist=[], actor=CENTRE)


@action('中心将工单派给"{dept}"，协办单位"{assists}"')
def dispatch_with_assists(world: World, dept: str, assists: str) -> None:
    """派单并指定协办单位（多个用顿号分隔）。例：当 中心将工单派给"区水务局"，协办单位"区城管局、东湖街道办事处\""""
    world.engine.service.dispatch(world.ticket, dept=dept, assist=split_names(assists),
                                  actor=CENTRE)


@then('工单编号为"{ticket}"')
def ticket_is(world: World, ticket: str) -> None:
    """当前工单的编号（受理日期 + 当日序号）。例：那么 工单编号为"202509300001\""""
    assert world.ticket == ticket, f"工单编号为 {world.ticket}，不是 {ticket}"


@then('工单的类别为"{category}"，受理渠道为"{channel}"')
def category_channel(world: World, category: str, channel: str) -> None:
    """当前工单记录的诉求类别和受理渠道。例：那么 工单的类别为"投诉"，受理渠道为"APP\""""
    view = world.show()
    assert (view["category"], view["channel"]) == (category, channel), (
        f"类别为“{view['category']}”，渠道为“{view['channel']}”")


@then('来电人显示为"{masked_name}"，电话显示为"{masked_phone}"')
def caller_masked(world: World, masked_name: str, masked_phone: str) -> None:
    """工单对外显示的来电人信息已脱敏。例：那么 来电人显示为"张*"，电话显示为"138****8000\""""
    view = world.show()
    shown = (view["caller_name"], view["caller_phone"])
    assert shown == (masked_name, masked_phone), f"显示为 {shown}"


@then('工单的主办单位为"{dept}"')
def lead_is(world: World, dept: str) -> None:
    """当前工单的主办单位。例：那么 工单的主办单位为"区水务局\""""
    actual = world.show()["department"]
    assert actual == dept, f"主办单位为“{actual}”，不是“{dept}”"


@then('工单的协办单位为"{assists}"')
def assists_are(world: World, assists: str) -> None:
    """当前工单的协办单位（按派单时的顺序，顿号分隔）。例：那么 工单的协办单位为"区城管局、东湖街道办事处\""""
    actual = world.show()["assist_departments"]
    assert actual == split_names(assists), f"协办单位为“{'、'.join(actual)}”"


@then('工单的签收截止时间为"{moment}"')
def sign_due_is(world: World, moment: str) -> None:
    """主办单位须在此时间前签收（北京时间）。例：那么 工单的签收截止时间为"2025-10-09 23:59:59\""""
    due = world.order().sign_due_at
    assert due == parse_moment(moment), f"签收截止时间为 {show_moment(due)}，不是 {moment}"
