"""What a campaign call says and does after each answer, by kind, apart from the media.

Pure and text level: the robot (adapters/telephony/campaign_call.py) says each `Ask`'s
sentences, listens when the ask names a closed answer set, classifies what it heard into
that set (or None: doubtful, or nothing said) and hands it back as `Heard`. The dialogue
keeps the call's record as it goes (`entries`: every sentence said, in order, each answer,
the confirmation, the hand-off), which the campaign service records on the contact: what
the citizen heard is what the record says was said.

* survey (民意调研): the intro, then the questions in order, following each answer's `next`
  branch (domain/campaign/survey.py). A doubtful answer is asked again once, more simply
  (just the answers); still doubtful: recorded as 未识别 and the call goes on to the next
  question in order. Never a guess. After the last question, the outro.
* notification (事项通知): the rendered message, then "听清楚了吗？"; 听清楚了 → heard;
  再听一遍 → the message once more (once per call); doubtful words → asked once more
  simply; still doubtful, or silence → not confirmed (heard = false). Either way a goodbye.
* broadcast (政策宣导): the message and "如需人工服务请说“人工”"; 人工 (转人工, 人工客服, 真人…,
  classified by the robot) → handed to a person with the contact's context; anything else
  → goodbye.

The campaign message is said as its template (kind "message", `template=True`): the
rendered sentence holds personal data, which the contact's vault token already holds; the
contact's view renders it again (domain/campaign/template.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from domain.campaign.survey import next_question

UNRECOGNISED: Final = "未识别"
HEARD: Final = "听清楚了"
REPEAT: Final = "再听一遍"
CONFIRM_ANSWERS: Final = (HEARD, REPEAT)
HANDOFF: Final = "人工"
NO_HANDOFF: Final = "不需要"
HANDOFF_ANSWERS: Final = (HANDOFF, NO_HANDOFF)

DEFAULT_OUTRO: Final = "感谢您的参与，再见。"
SORRY: Final = "抱歉，没有听清。"
CONFIRM_ASK: Final = "听清楚了吗？请说“听清楚了”或“再听一遍”。"
CONFIRM_REASK: Final = "抱歉，没有听清。听清楚了请说“听清楚了”，想再听请说“再听一遍”。"
CONFIRM_THANKS: Final = "好的，感谢您的接听，再见。"
CONFIRM_BYE: Final = "如需了解详情，请拨打12345热线，再见。"
HANDOFF_OFFER: Final = "如需人工服务请说“人工”。"
HANDOFF_SAY: Final = "好的，正在为您转接人工服务，请稍候。"
BROADCAST_BYE: Final = "感谢您的接听，再见。"
HANDOFF_REASON: Final = "市民要求转人工"


def options(answers: Sequence[str]) -> str:
    """满意、基本满意或不满意."""
    if len(answers) == 1:
        return answers[0]
    return "、".join(answers[:-1]) + "或" + answers[-1]


def question_prompt(question: dict[str, Any]) -> str:
    return f"{question['text']}请回答{options(question['answers'])}。"


def question_reask(question: dict[str, Any]) -> str:
    """The simpler second ask: only the answers."""
    return f"{SORRY}请直接说：{options(question['answers'])}。"


# ----- the record of a call ---------------------------------------------------------------
@dataclass(frozen=True)
class Said:
    kind: str  # intro, question, reask, outro, message, confirm, handoff, bye
    text: str
    template: bool = False  # the campaign message as written, rendered per contact


@dataclass(frozen=True)
class Answered:
    question: str
    answer: str  # a label of the question's answer set, or UNRECOGNISED
    transcript: str


@dataclass(frozen=True)
class Confirmed:
    heard: bool
    answer: str  # HEARD, REPEAT or UNRECOGNISED: the last reply
    transcript: str
    repeats: int


@dataclass(frozen=True)
class HandOff:
    reason: str
    transcript: str


Entry = Said | Answered | Confirmed | HandOff


@dataclass(frozen=True)
class Ask:
    """Sentences to say; then listen for one of `answers` (`listen` names what for: a
    question id, "confirm", "handoff"), or end the call when `listen` is None."""

    said: tuple[Said, ...]
    listen: str | None = None
    answers: tuple[str, ...] = ()

    @property
    def ends(self) -> bool:
        return self.listen is None

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.said]


@dataclass(frozen=True)
class Heard:
    """A reply classified into the closed set: `answer` is one of its labels, or None
    (doubtful, or nobody spoke)."""

    answer: str | None
    transcript: str = ""


@dataclass
class CampaignDialogue:
    entries: list[Entry] = field(default_factory=list)
    done: bool = False  # the dialogue reached its own end (not cut by a hang-up)

    def _ask(self, said: Sequence[Said], listen: str | None = None,
             answers: Sequence[str] = ()) -> Ask:
        self.entries.extend(said)
        if listen is None:
            self.done = True
        return Ask(tuple(said), listen, tuple(answers))

    def said(self) -> list[str]:
        return [e.text for e in self.entries if isinstance(e, Said)]

    def open(self) -> Ask:
        raise NotImplementedError

    def hear(self, heard: Heard) -> Ask:
        raise NotImplementedError


@dataclass
class SurveyDialogue(CampaignDialogue):
    survey: dict[str, Any] = field(default_factory=dict)
    current: str = ""
    reasked: bool = False
    transcripts: list[str] = field(default_factory=list)

    def _question(self, ident: str) -> dict[str, Any]:
        return next(q for q in self.survey["questions"] if q["id"] == ident)

    def _go(self, ident: str | None, before: Sequence[Said] = ()) -> Ask:
        if ident is None:
            return self._ask([*before, Said("outro", self.survey.get("outro") or DEFAULT_OUTRO)])
        question = self._question(ident)
        self.current, self.reasked, self.transcripts = ident, False, []
        return self._ask([*before, Said("question", question_prompt(question))], ident,
                         question["answers"])

    def open(self) -> Ask:
        intro = self.survey.get("intro")
        return self._go(self.survey["questions"][0]["id"],
                        [Said("intro", intro)] if intro else [])

    def hear(self, heard: Heard) -> Ask:
        question = self._question(self.current)
        if heard.transcript:
            self.transcripts.append(heard.transcript)
        if heard.answer is not None and heard.answer in question["answers"]:
            self.entries.append(Answered(self.current, heard.answer, heard.transcript))
            return self._go(next_question(self.survey, self.current, heard.answer))
        if not self.reasked:
            self.reasked = True
            return self._ask([Said("reask", question_reask(question))], self.current,
                             question["answers"])
        self.entries.append(Answered(self.current, UNRECOGNISED, " / ".join(self.transcripts)))
        return self._go(next_question(self.survey, self.current, UNRECOGNISED))

    def answers(self) -> dict[str, str]:
        return {e.question: e.answer for e in self.entries if isinstance(e, Answered)}


@dataclass
class NotificationDialogue(CampaignDialogue):
    message: str = ""  # the template, as recorded
    repeats: int = 0
    reasked: bool = False
    transcripts: list[str] = field(default_factory=list)

    def _message(self) -> list[Said]:
        return [Said("message", self.message, template=True), Said("confirm", CONFIRM_ASK)]

    def open(self) -> Ask:
        return self._ask(self._message(), "confirm", CONFIRM_ANSWERS)

    def _confirmed(self, heard: bool, answer: str, bye: str) -> Ask:
        self.entries.append(Confirmed(heard, answer, " / ".join(self.transcripts),
                                      self.repeats))
        return self._ask([Said("bye", bye)])

    def hear(self, heard: Heard) -> Ask:
        if heard.transcript:
            self.transcripts.append(heard.transcript)
        if heard.answer == HEARD:
            return self._confirmed(True, HEARD, CONFIRM_THANKS)
        if heard.answer == REPEAT:
            if self.repeats < 1:
                self.repeats += 1
                return self._ask(self._message(), "confirm", CONFIRM_ANSWERS)
            return self._confirmed(False, REPEAT, CONFIRM_BYE)
        if not self.reasked and heard.transcript:  # doubtful words; silence is no reply
            self.reasked = True
            return self._ask([Said("reask", CONFIRM_REASK)], "confirm", CONFIRM_ANSWERS)
        return self._confirmed(False, UNRECOGNISED, CONFIRM_BYE)


@dataclass
class BroadcastDialogue(CampaignDialogue):
    message: str = ""

    def open(self) -> Ask:
        return self._ask([Said("message", self.message, template=True),
                          Said("offer", HANDOFF_OFFER)], "handoff", HANDOFF_ANSWERS)

    def hear(self, heard: Heard) -> Ask:
        if heard.answer == HANDOFF:
            self.entries.append(HandOff(HANDOFF_REASON, heard.transcript))
            return self._ask([Said("handoff", HANDOFF_SAY)])
        return self._ask([Said("bye", BROADCAST_BYE)])


def dialogue_for(kind: str, *, message: str = "", survey: dict[str, Any] | None = None
                 ) -> CampaignDialogue:
    if kind == "survey":
        if not survey:
            raise ValueError("a survey call needs its questionnaire")
        return SurveyDialogue(survey=survey)
    if kind == "notification":
        return NotificationDialogue(message=message)
    if kind == "broadcast":
        return BroadcastDialogue(message=message)
    raise ValueError(f"unknown campaign kind {kind!r}")
