"""What the callback robot does after each answer: the dialogue policy, apart from the media.

One question, "您对办理结果是否满意？", and the answers the classifier gives
(``adapters.asr.intent``):

* 满意 / 基本满意 / 不满意 — recorded; thanks and goodbye;
* 转人工 — handed to a person with the transcript;
* 一般 (还行, 一般, 凑合) — not recorded as anything: "那您是基本满意吗？" (once per call); the
  reply is read by ``classify_confirmation`` (是的 → 基本满意, 不是 → not understood);
* 未识别 — asked again, more simply: "满意请说满意，不满意请说不满意。";
* after two failed asks the robot does not guess: if the citizen said anything, a person takes
  over with the transcript of every turn ("抱歉，还是没有听清，正在为您转接人工服务"); if the
  line stayed silent, the robot says goodbye with no result and the dialler calls again later.

``CallbackDialogue`` holds the count of failed asks and whether the confirmation was asked;
``next_step`` turns the latest answer into the next step. The robot
(``adapters.telephony.robot``) plays the step's prompt and listens again, or ends the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from adapters.asr.intent import TRANSFER, UNRECOGNIZED
from adapters.asr.phrasings import LUKEWARM

RESULT_INTENTS: Final = ("满意", "基本满意", "不满意")
HANDOFF_INTENT: Final = TRANSFER

StepKind = Literal["record", "handoff", "confirm", "reask", "handoff_unclear", "give_up"]


@dataclass(frozen=True)
class Step:
    """What to do next; ``listen`` says whether an answer is awaited after the prompt."""

    kind: StepKind

    @property
    def listen(self) -> bool:
        return self.kind in ("confirm", "reask")


@dataclass
class CallbackDialogue:
    """The state of one callback conversation."""

    max_reasks: int = 1  # asks after the first that may fail before the robot stops asking
    failed: int = 0
    confirm_asked: bool = False
    confirming: bool = False  # the last prompt was "那您是基本满意吗？"
    heard_speech: bool = False  # anything said in a failed turn (a person can take over)

    def next_step(self, intent: str, *, spoke: bool) -> Step:
        """The step after an answer classified as ``intent`` (``spoke``: speech was heard)."""
        self.confirming = False
        if intent in RESULT_INTENTS:
            return Step("record")
        if intent == HANDOFF_INTENT:
            return Step("handoff")
        if intent == LUKEWARM and not self.confirm_asked:
            self.confirm_asked = self.confirming = True
            return Step("confirm")
        # 未识别, a second 一般, or a "不是" to the confirmation: a failed ask.
        self.heard_speech = self.heard_speech or spoke
        if self.failed < self.max_reasks:
            self.failed += 1
            return Step("reask")
        return Step("handoff_unclear" if self.heard_speech else "give_up")


def final_intent(step: Step, intent: str) -> str:
    """The call's deciding intent for a step that ends the call."""
    if step.kind == "record":
        return intent
    if step.kind in ("handoff", "handoff_unclear"):
        return HANDOFF_INTENT
    return UNRECOGNIZED
