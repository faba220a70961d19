"""The survey questionnaire (问卷) of a `survey` campaign, from its TOML file.

    title = "垃圾分类满意度调查"
    intro = "您好，这里是12345热线，耽误您一分钟做个回访。"
    outro = "感谢您的参与，再见。"

    [[questions]]
    id = "q1"
    text = "您对小区垃圾分类工作满意吗？"
    answers = ["满意", "基本满意", "不满意"]
    next = { "不满意" = "q2" }      # branching; an answer not listed goes to the next question

    [[questions]]
    id = "q2"
    text = "您最不满意的是哪方面？"
    answers = ["清运不及时", "设施不足", "其他"]
    next = { "清运不及时" = "end" } # "end" ends the call

    [[work_orders]]                 # an answer that opens a work order (channel 外呼)
    question = "q1"
    answer = "不满意"
    category = "投诉"

Every answer set is closed (2–10 answers, what the robot's classifier chooses among);
branches only jump forward, so no call can loop. A malformed file, an unknown key, a
branch to nowhere or a rule naming a missing answer is refused naming the line.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from domain.errors import InvalidInput, shown
from domain.values import CATEGORIES, optional_text, require_text

END = "end"
MAX_QUESTIONS = 50
MAX_ANSWERS = 10
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
TOP_KEYS = {"title", "intro", "outro", "questions", "work_orders"}
QUESTION_KEYS = {"id", "text", "answers", "next"}
RULE_KEYS = {"question", "answer", "category"}


class _Lines:
    """Where things are in the file: the line of each [[questions]] / [[work_orders]]
    header and of a key inside one (tomllib gives lines for syntax errors only)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _headers(self, table: str) -> list[int]:
        pattern = re.compile(rf"^\s*\[\[\s*{table}\s*\]\]")
        return [i for i, line in enumerate(self.lines) if pattern.match(line)]

    def of(self, table: str | None, index: int | None = None, key: str | None = None) -> int:
        if table is None:
            start, end = 0, len(self.lines)
            headers = [i for i, line in enumerate(self.lines) if line.lstrip().startswith("[")]
            end = headers[0] if headers else end
        else:
            headers = self._headers(table)
            if index is None or index >= len(headers):
                return (headers[0] + 1) if headers else 1
            start = headers[index]
            later = [i for i, line in enumerate(self.lines)
                     if i > start and line.lstrip().startswith("[")]
            end = later[0] if later else len(self.lines)
        if key is not None:
            pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
            for i in range(start, end):
                if pattern.match(self.lines[i]):
                    return i + 1
        return start + 1


class _Checker:
    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.where = _Lines(text)

    def fail(self, line: int, zh: str, en: str) -> InvalidInput:
        return InvalidInput("script", f"问卷文件 {shown(self.name, 80)} 第 {line} 行：{zh}",
                            f"questionnaire {shown(self.name, 80)} line {line}: {en}")

    def text(self, value: Any, line: int, label: str, required: bool = True,
             max_len: int = 500) -> str:
        if value is not None and not isinstance(value, str):
            raise self.fail(line, f"{label}应为文本", f"{label} must be text")
        try:
            return (require_text if required else optional_text)("script", value, label, max_len)
        except InvalidInput as error:
            raise self.fail(line, error.zh, error.en) from None

    def unknown(self, table: dict[str, Any], allowed: set[str], where: str | None,
                index: int | None) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(self.where.of(where, index, key), f"未知的键“{shown(key)}”"
                                f"（可用：{'、'.join(sorted(allowed))}）",
                                f"unknown key {shown(key)!r} (expected one of "
                                f"{', '.join(sorted(allowed))})")


def parse_survey(text: str, name: str = "script.toml") -> dict[str, Any]:
    """The questionnaire as plain data (recorded in the campaign's Created event)."""
    check = _Checker(name, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        line = int(match.group(1)) if match else 1
        raise check.fail(line, f"TOML 格式错误：{shown(str(error), 200)}",
                         f"malformed TOML: {shown(str(error), 200)}") from None
    check.unknown(data, TOP_KEYS, None, None)
    survey: dict[str, Any] = {
        "title": check.text(data.get("title"), check.where.of(None, key="title"), "标题", True, 100),
        "intro": check.text(data.get("intro"), check.where.of(None, key="intro"), "开场白", False),
        "outro": check.text(data.get("outro"), check.where.of(None, key="outro"), "结束语", False),
    }
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise check.fail(check.where.of("questions"), "至少需要一个问题（[[questions]]）",
                         "at least one question is needed ([[questions]])")
    if len(questions) > MAX_QUESTIONS:
        raise check.fail(check.where.of("questions", MAX_QUESTIONS),
                         f"问题过多（最多 {MAX_QUESTIONS} 个）",
                         f"too many questions (max {MAX_QUESTIONS})")
    survey["questions"] = _questions(check, questions)
    survey["work_orders"] = _rules(check, data.get("work_orders", []), survey["questions"])
    return survey


def _questions(check: _Checker, questions: list[Any]) -> list[dict[str, Any]]:
    where = check.where.of
    ids: dict[str, int] = {}
    for index, question in enumerate(questions):
        if not isinstance(question, dict):
            raise check.fail(where("questions", index), "问题应为表（[[questions]]）",
                             "a question must be a table ([[questions]])")
        ident = question.get("id")
        if not isinstance(ident, str) or not _ID.fullmatch(ident) or ident == END:
            raise check.fail(where("questions", index, "id"), "问题编号 id 应为字母开头的字母、数字、下划线",
                             "the question id must be letters, digits and _, starting "
                             "with a letter (and not \"end\")")
        if ident in ids:
            raise check.fail(where("questions", index, "id"), f"问题编号“{ident}”重复",
                             f"question id {ident!r} is repeated")
        ids[ident] = index
    parsed = []
    for index, question in enumerate(questions):
        check.unknown(question, QUESTION_KEYS, "questions", index)
        answers = question.get("answers")
        line = where("questions", index, "answers")
        if (not isinstance(answers, list) or not 2 <= len(answers) <= MAX_ANSWERS
                or not all(isinstance(a, str) for a in answers)):
            raise check.fail(line, f"answers 应为 2–{MAX_ANSWERS} 个文本答案（封闭答案集）",
                             f"answers must be 2-{MAX_ANSWERS} texts (a closed answer set)")
        answers = [check.text(a, line, "答案", True, 20) for a in answers]
        if len(set(answers)) != len(answers):
            raise check.fail(line, "答案重复", "an answer is repeated")
        branches = question.get("next", {})
        line = where("questions", index, "next")
        if not isinstance(branches, dict):
            raise check.fail(line, "next 应为 答案 = 问题编号 的表", "next must map answers to question ids")
        for answer, target in branches.items():
            if answer not in answers:
                raise check.fail(line, f"分支中的答案“{shown(answer)}”不在本题答案中",
                                 f"branch answer {shown(answer)!r} is not one of this question's")
            if target != END and (not isinstance(target, str) or target not in ids):
                raise check.fail(line, f"分支指向不存在的问题“{shown(str(target))}”",
                                 f"branch to a question that does not exist: {shown(str(target))!r}")
            if target != END and ids[target] <= index:
                raise check.fail(line, f"分支只能跳到后面的问题（“{target}”在本题之前或就是本题）",
                                 f"branches only jump forward ({target!r} is not after this question)")
        parsed.append({"id": question["id"],
                       "text": check.text(question.get("text"), where("questions", index, "text"),
                                          "问题"),
                       "answers": answers, "next": dict(branches)})
    return parsed


def _rules(check: _Checker, rules: Any, questions: list[dict[str, Any]]) -> list[dict[str, str]]:
    where = check.where.of
    if not isinstance(rules, list):
        raise check.fail(where("work_orders"), "work_orders 应为 [[work_orders]] 表的列表",
                         "work_orders must be a list of [[work_orders]] tables")
    answers = {q["id"]: q["answers"] for q in questions}
    parsed = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise check.fail(where("work_orders", index), "规则应为表", "a rule must be a table")
        check.unknown(rule, RULE_KEYS, "work_orders", index)
        question, answer, category = rule.get("question"), rule.get("answer"), rule.get("category")
        if question not in answers:
            raise check.fail(where("work_orders", index, "question"),
                             f"规则引用了不存在的问题“{shown(str(question))}”",
                             f"the rule names a question that does not exist: {shown(str(question))!r}")
        if answer not in answers[question]:
            raise check.fail(where("work_orders", index, "answer"),
                             f"规则中的答案“{shown(str(answer))}”不在问题 {question} 的答案中",
                             f"the rule's answer {shown(str(answer))!r} is not one of {question}'s")
        if category not in CATEGORIES:
            raise check.fail(where("work_orders", index, "category"),
                             f"工单类别应为：{'、'.join(CATEGORIES)}",
                             f"category must be one of {', '.join(CATEGORIES)}")
        parsed.append({"question": question, "answer": answer, "category": category})
    return parsed


def next_question(survey: dict[str, Any], question_id: str, answer: str) -> str | None:
    """Where the call goes after `answer` to `question_id`: a question id, or None (end)."""
    ids = [q["id"] for q in survey["questions"]]
    question = survey["questions"][ids.index(question_id)]
    target = question["next"].get(answer)
    if target == END:
        return None
    if target is not None:
        return str(target)
    position = ids.index(question_id) + 1
    return ids[position] if position < len(ids) else None
