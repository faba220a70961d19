"""The survey questionnaire file: closed answer sets, forward-only branching, work-order
rules; every mistake refused naming its line (Chinese and English)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.bootstrap import Engine
from adapters.campaigns import desk
from domain.campaign.survey import next_question, parse_survey
from domain.errors import InvalidInput
from domain.values import Actor

SAMPLE = Path(__file__).parent / "fixtures" / "campaign" / "垃圾分类调查.toml"


def test_the_sample_questionnaire_and_its_branches() -> None:
    survey = parse_survey(SAMPLE.read_text(encoding="utf-8"), SAMPLE.name)
    assert [q["id"] for q in survey["questions"]] == ["q1", "q2", "q3"]
    assert next_question(survey, "q1", "不满意") == "q2"  # not listed: the next question
    assert next_question(survey, "q1", "满意") == "q3"
    assert next_question(survey, "q3", "是") is None  # "end"
    assert next_question(survey, "q3", "否") is None  # the last question
    assert survey["work_orders"] == [{"question": "q2", "answer": "清运不及时", "category": "投诉"}]


def test_a_survey_campaign_records_its_questionnaire(sqlite_engine: Engine) -> None:
    campaigns = desk(sqlite_engine)
    ref = campaigns.execute("create_campaign", actor=Actor("dispatcher", "centre"),
                            kind="survey", name="垃圾分类调研", script=SAMPLE)["campaign_id"]
    assert campaigns.service.campaign(ref).script == parse_survey(SAMPLE.read_text("utf-8"))
    with pytest.raises(InvalidInput):  # a questionnaire only for surveys
        campaigns.execute("create_campaign", actor=Actor("dispatcher", "centre"),
                          kind="broadcast", name="x", message="m", script=SAMPLE)


GOOD_Q = '[[questions]]\nid = "q1"\ntext = "满意吗？"\nanswers = ["满意", "不满意"]\n'
BAD = {
    "syntax": ('title = "t"\n[[questions]\n', 2, "TOML"),
    "no_title": (GOOD_Q, 1, "标题"),
    "unknown_top": ('title = "t"\ntitel = "x"\n' + GOOD_Q, 2, "titel"),
    "no_questions": ('title = "t"\n', 1, "至少需要一个问题"),
    "one_answer": ('title = "t"\n[[questions]]\nid = "q1"\ntext = "问"\nanswers = ["是"]\n', 5,
                   "answers"),
    "repeated_answer": ('title = "t"\n[[questions]]\nid = "q1"\ntext = "问"\n'
                        'answers = ["是", "是"]\n', 5, "重复"),
    "bad_id": ('title = "t"\n[[questions]]\nid = "1q"\ntext = "问"\nanswers = ["是", "否"]\n',
               3, "id"),
    "same_id": ('title = "t"\n' + GOOD_Q + GOOD_Q, 7, "重复"),
    "branch_nowhere": ('title = "t"\n' + GOOD_Q + 'next = { "满意" = "q9" }\n', 6, "q9"),
    "branch_back": ('title = "t"\n' + GOOD_Q + '[[questions]]\nid = "q2"\ntext = "再问"\n'
                    'answers = ["是", "否"]\nnext = { "是" = "q1" }\n', 10, "后面"),
    "branch_answer": ('title = "t"\n' + GOOD_Q + 'next = { "也许" = "end" }\n', 6, "也许"),
    "unknown_question_key": ('title = "t"\n' + GOOD_Q + 'anwsers = 1\n', 6, "anwsers"),
    "rule_answer": ('title = "t"\n' + GOOD_Q + '[[work_orders]]\nquestion = "q1"\n'
                    'answer = "一般"\ncategory = "投诉"\n', 8, "一般"),
    "rule_category": ('title = "t"\n' + GOOD_Q + '[[work_orders]]\nquestion = "q1"\n'
                      'answer = "不满意"\ncategory = "吐槽"\n', 9, "类别"),
    "control_char": ('title = "t\\u0007"\n' + GOOD_Q, 1, "控制"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_questionnaire_is_refused_naming_the_line(case: str) -> None:
    text, line, words = BAD[case]
    with pytest.raises(InvalidInput) as refused:
        parse_survey(text, "s.toml")
    assert f"第 {line} 行" in refused.value.zh and f"line {line}" in refused.value.en, (
        refused.value.zh)
    assert words in refused.value.zh or words in refused.value.en
    assert refused.value.field == "script"
