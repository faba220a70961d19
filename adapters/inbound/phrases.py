"""Every sentence the inbound robot says, built from fixed phrases and recorded data (an
article's short answer and follow-up titles, an order's state and date). The call record
stores the sentence as said; the media robot plays the clips these texts name."""

from __future__ import annotations

from datetime import date
from typing import Final

from domain.inbound.dialogue import ArticleRef, Draft

GREETING: Final = "您好，这里是12345政务服务便民热线智能客服，请问有什么可以帮您？"
ASK_MORE: Final = "请问还有其他问题吗？"
REASK: Final = "抱歉，没有听清，请您再说一遍您要咨询或反映的问题。"
HANDOFF: Final = "正在为您转接人工服务，请稍候。"
GOODBYE: Final = "感谢您的来电，再见。"
SMS_OFFER: Final = "如需完整内容，可以说“发短信”。"
NOT_FOUND: Final = "抱歉，没有查到这个工单号，正在为您转接人工服务。"
NOT_YOURS: Final = "这个工单不是用您现在的号码登记的，为保护个人信息，请用登记时的号码来电查询。"


def answer(article: ArticleRef) -> str:
    follow = ""
    if article.follow_ups:
        follow = "您还可以问：" + "；".join(article.follow_ups) + "。"
    return f"{article.short_answer}{SMS_OFFER}{follow}"


def sms_sent(article: ArticleRef) -> str:
    return f"已将“{article.title}”的完整内容发送到您的手机，请注意查收。"


NO_NUMBER: Final = "抱歉，没有识别到您的来电号码，无法发送短信。"


def transfer(line_name: str) -> str:
    return f"您咨询的问题由{line_name}受理，正在为您转接，无需挂机重拨。"


def spoken_digits(number: str) -> str:
    names = "零幺二三四五六七八九"
    return "".join(names[int(d)] for d in number if d.isdigit())


def progress(ticket_no: str, state: str, expected: date | None) -> str:
    when = f"预计{expected.month}月{expected.day}日前办结。" if expected else ""
    return f"您查询的工单{spoken_digits(ticket_no)}，目前状态是{state}。{when}"


def draft_read_back(draft: Draft) -> str:
    return f"已为您记录{draft.category}：{draft.content}。"


def registered(ticket_no: str) -> str:
    return f"已为您登记，工单号{spoken_digits(ticket_no)}，我们会尽快处理。"


def registered_again(ticket_no: str) -> str:
    return f"这件事已经为您登记过了，工单号{spoken_digits(ticket_no)}，不用重复登记。"
