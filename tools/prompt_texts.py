"""What the robot's prompt clips say: name -> (text, pinyin), for ``tools.make_prompts``.

Texts are what the manifest records and what tests read back; pinyin (tone digits) is what
espeak-ng's ``cmn-latn-pinyin`` voice is given, so polyphones (长, 行, 重) are never guessed.

Three kinds of clips:

* fixed phrases (``FIXED_CLIPS``), including the phrases of the reminder scripts;
* department names (``DEPARTMENT_CLIPS``), because the 督办提醒 script names the lead unit:
  every unit of ``config/departments.toml`` needs one (``make_prompts --check`` says which
  are missing);
* the variable parts of scripts (digits, months, days, hours, minutes), whose names and
  texts come from ``adapters.telephony.script`` and whose pinyin is computed here.
"""

from __future__ import annotations

from adapters.telephony.script import (
    PLAIN_ONE,
    YEAR_MARK,
    day_clip,
    digit_clip,
    hour_clip,
    minute_clip,
    month_clip,
    variable_clip_texts,
)

# name -> (text, pinyin). Names are file names; texts are what the robot says.
FIXED_CLIPS: dict[str, tuple[str, str]] = {
    # callback (回访)
    "greet_callback": ("您好，这里是12345热线回访。",
                       "nin2 hao3, zhe4 li3 shi4 yao1 er4 san1 si4 wu3 re4 xian4 hui2 fang3."),
    "your_request": ("您反映的", "nin2 fan3 ying4 de5"),
    "issue_resolved": ("问题已办结，", "wen4 ti2 yi3 ban4 jie2,"),
    "q_satisfied": ("请问您对处理结果满意吗？",
                    "qing3 wen4 nin2 dui4 chu3 li3 jie2 guo3 man3 yi4 ma5?"),
    "q_options": ("请回答满意、基本满意或不满意。",
                  "qing3 hui2 da2 man3 yi4, ji1 ben3 man3 yi4, huo4 bu4 man3 yi4."),
    "sorry_unclear": ("抱歉，没有听清。", "bao4 qian4, mei2 you3 ting1 qing1."),
    "q_simple": ("满意请说满意，不满意请说不满意。",
                 "man3 yi4 qing3 shuo1 man3 yi4, bu4 man3 yi4 qing3 shuo1 bu4 man3 yi4."),
    "q_confirm_basic": ("那您是基本满意吗？", "na4 nin2 shi4 ji1 ben3 man3 yi4 ma5?"),
    "handoff_unclear": ("抱歉，还是没有听清，正在为您转接人工服务，请稍候。",
                        "bao4 qian4, hai2 shi4 mei2 you3 ting1 qing1, zheng4 zai4 wei4 nin2 "
                        "zhuan3 jie1 ren2 gong1 fu2 wu4, qing3 shao1 hou4."),
    "thanks_bye": ("感谢您的评价，再见。", "gan3 xie4 nin2 de5 ping2 jia4, zai4 jian4."),
    "handoff": ("好的，正在为您转接人工服务，请稍候。",
                "hao3 de5, zheng4 zai4 wei4 nin2 zhuan3 jie1 ren2 gong1 fu2 wu4, qing3 shao1 hou4."),
    "unrecognized_bye": ("抱歉，未能识别您的回答，我们稍后再与您联系，再见。",
                         "bao4 qian4, wei4 neng2 shi2 bie2 nin2 de5 hui2 da2, "
                         "wo3 men5 shao1 hou4 zai4 yu3 nin2 lian2 xi4, zai4 jian4."),
    # categories (诉求类别)
    "cat_consult": ("咨询", "zi1 xun2"),
    "cat_help": ("求助", "qiu2 zhu4"),
    "cat_complaint": ("投诉", "tou2 su4"),
    "cat_report": ("举报", "ju3 bao4"),
    "cat_suggestion": ("建议", "jian4 yi4"),
    "cat_praise": ("表扬", "biao3 yang2"),
    # progress query (进度查询)
    "query_ticket": ("您查询的工单", "nin2 cha2 xun2 de5 gong1 dan1"),
    "current_state": ("当前状态：", "dang1 qian2 zhuang4 tai4:"),
    "expected": ("预计", "yu4 ji4"),
    "before_done": ("前办结。", "qian2 ban4 jie2."),
    "not_found": ("未查询到该工单，请核对工单号。",
                  "wei4 cha2 xun2 dao4 gai1 gong1 dan1, qing3 he2 dui4 gong1 dan1 hao4."),
    "state_intake": ("已受理", "yi3 shou4 li3"),
    "state_dispatched": ("已派单", "yi3 pai4 dan1"),
    "state_returned": ("已退回", "yi3 tui4 hui2"),
    "state_handling": ("办理中", "ban4 li3 zhong1"),
    "state_resolved": ("已办结", "yi3 ban4 jie2"),
    "state_archived": ("已归档", "yi3 gui1 dang4"),
    "state_withdrawn": ("已撤销", "yi3 che4 xiao1"),
    "state_merged": ("已合并", "yi3 he2 bing4"),
    "state_transferred": ("已转办", "yi3 zhuan3 ban4"),
    "state_extension_pending": ("办理中（延期审批中）",
                                "ban4 li3 zhong1, yan2 qi1 shen3 pi1 zhong1"),
    # reminders: the phrases of the scripts recorded in OutboundCallRequested
    # (domain/policies/escalation.py); each text is exactly the script's characters
    "greet": ("您好，这里是12345热线。", "nin2 hao3, zhe4 li3 shi4 yao1 er4 san1 si4 wu3 re4 xian4."),
    "ticket": ("工单", "gong1 dan1"),
    "will_be_due": ("将于", "jiang1 yu2"),
    "due_report_by": ("到期，请于", "dao4 qi1, qing3 yu2"),
    "today": ("今日", "jin1 ri4"),
    "report_plan": ("前反馈处理计划。", "qian2 fan3 kui4 chu3 li3 ji4 hua4."),
    "issue_ticket": ("问题（工单", "wen4 ti2, gong1 dan1"),
    "in_progress_eta": ("）正在办理中，预计于", "zheng4 zai4 ban4 li3 zhong1, yu4 ji4 yu2"),
    "lead_ticket": ("承办的工单", "cheng2 ban4 de5 gong1 dan1"),
    "due_supervise": ("到期，至今未反馈处理计划，请督促办理。",
                      "dao4 qi1, zhi4 jin1 wei4 fan3 kui4 chu3 li3 ji4 hua4, "
                      "qing3 du1 cu4 ban4 li3."),
    "ack_request": ("收到请回复收到。", "shou1 dao4 qing3 hui2 fu4 shou1 dao4."),
    "bye": ("感谢接听，再见。", "gan3 xie4 jie1 ting1, zai4 jian4."),
    # numbers: digits read one by one (幺 for 1, as on the phone), numerals for dates
    "d1": ("幺", "yao1"),
    "n0": ("零", "ling2"),
    "n1": ("一", "yi1"),
    "n2": ("二", "er4"),
    "n3": ("三", "san1"),
    "n4": ("四", "si4"),
    "n5": ("五", "wu3"),
    "n6": ("六", "liu4"),
    "n7": ("七", "qi1"),
    "n8": ("八", "ba1"),
    "n9": ("九", "jiu3"),
    "n10": ("十", "shi2"),
    "month": ("月", "yue4"),
    "day": ("日", "ri4"),
}


# Department name -> (clip name, pinyin).
DEPARTMENT_CLIPS: dict[str, tuple[str, str]] = {
    "区政府": ("dept_district_government", "qu1 zheng4 fu3"),
    "区政府督查室": ("dept_inspection_office", "qu1 zheng4 fu3 du1 cha2 shi4"),
    "区水务局": ("dept_water", "qu1 shui3 wu4 ju2"),
    "区城管局": ("dept_urban_management", "qu1 cheng2 guan3 ju2"),
    "区市场监管局": ("dept_market_regulation", "qu1 shi4 chang3 jian1 guan3 ju2"),
    "区住建局": ("dept_housing", "qu1 zhu4 jian4 ju2"),
    "区人社局": ("dept_human_resources", "qu1 ren2 she4 ju2"),
    "区生态环境分局": ("dept_ecology", "qu1 sheng1 tai4 huan2 jing4 fen1 ju2"),
    "区交通运输局": ("dept_transport", "qu1 jiao1 tong1 yun4 shu1 ju2"),
    "区教育局": ("dept_education", "qu1 jiao4 yu4 ju2"),
    "东湖街道办事处": ("dept_donghu_subdistrict", "dong1 hu2 jie1 dao4 ban4 shi4 chu4"),
    "西塘街道办事处": ("dept_xitang_subdistrict", "xi1 tang2 jie1 dao4 ban4 shi4 chu4"),
    "南岸镇人民政府": ("dept_nanan_town", "nan2 an4 zhen4 ren2 min2 zheng4 fu3"),
    "区供电公司": ("dept_power_supply", "qu1 gong1 dian4 gong1 si1"),
}

_DIGITS = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")


def numeral(value: int) -> str:
    """0..59 in pinyin as said in dates and times: 10 shi2, 15 shi2 wu3, 20 er4 shi2."""
    tens, ones = divmod(value, 10)
    words = [] if tens == 0 else (["shi2"] if tens == 1 else [_DIGITS[tens], "shi2"])
    if ones or not words:
        words.append(_DIGITS[ones])
    return " ".join(words)


def _variable_pinyin() -> dict[str, str]:
    """How the variable clips are said: 幺 for 1 in numbers read digit by digit, 两点 for
    02:00, 整 for a full hour."""
    pinyin = {digit_clip(str(d)): _DIGITS[d] for d in range(10)} | {digit_clip("1"): "yao1"}
    pinyin |= {PLAIN_ONE: "yi1", YEAR_MARK: "nian2"}
    pinyin |= {month_clip(m): f"{numeral(m)} yue4" for m in range(1, 13)}
    pinyin |= {day_clip(d): f"{numeral(d)} ri4" for d in range(1, 32)}
    pinyin |= {hour_clip(h): f"{'liang3' if h == 2 else numeral(h)} dian3" for h in range(24)}
    pinyin |= {minute_clip(m): "zheng3" if m == 0 else
               f"{'ling2 ' if m < 10 else ''}{numeral(m)} fen1" for m in range(60)}
    return pinyin


def all_clips() -> dict[str, tuple[str, str]]:
    """Every clip to generate: name -> (text, pinyin)."""
    pinyin = _variable_pinyin()
    variable = {name: (text, pinyin[name]) for name, text in variable_clip_texts().items()}
    departments = {name: (dept, said) for dept, (name, said) in DEPARTMENT_CLIPS.items()}
    return FIXED_CLIPS | departments | variable
