"""The callback dialogue: simpler second ask, 还行 → "那您是基本满意吗？", a person after two
failed asks.

The policy is checked on its own (``adapters.telephony.dialogue``), the confirmation reading
on transcriptions, and the prompts against their manifest. (An end-to-end call through the
confirmation is still to come: whisper base does not recognise espeak-ng's 还行 / 是的.)
"""

from __future__ import annotations

import json

from adapters.asr.intent import BASICALLY_SATISFIED, UNRECOGNIZED, classify_confirmation
from adapters.asr.whisper import Transcription
from adapters.telephony.dialogue import CallbackDialogue, final_intent
from adapters.telephony.prompts import PROMPT_DIR, PromptLibrary
from tools.prompt_texts import FIXED_CLIPS


def test_a_result_or_a_handoff_ends_the_call() -> None:
    for intent in ("满意", "基本满意", "不满意"):
        step = CallbackDialogue().next_step(intent, spoke=True)
        assert step.kind == "record" and final_intent(step, intent) == intent
    step = CallbackDialogue().next_step("转人工", spoke=True)
    assert step.kind == "handoff" and final_intent(step, "转人工") == "转人工"


def test_lukewarm_is_confirmed_once_then_counts_as_a_failed_ask() -> None:
    dialogue = CallbackDialogue()
    assert dialogue.next_step("一般", spoke=True).kind == "confirm" and dialogue.confirming
    assert dialogue.next_step("一般", spoke=True).kind == "reask"  # confirmation not repeated
    assert not dialogue.confirming
    assert dialogue.next_step("一般", spoke=True).kind == "handoff_unclear"


def test_two_failed_asks_hand_off_when_something_was_said_else_give_up() -> None:
    spoken = CallbackDialogue()
    assert spoken.next_step(UNRECOGNIZED, spoke=True).kind == "reask"
    step = spoken.next_step(UNRECOGNIZED, spoke=False)
    assert step.kind == "handoff_unclear" and final_intent(step, UNRECOGNIZED) == "转人工"
    silent = CallbackDialogue()
    assert silent.next_step(UNRECOGNIZED, spoke=False).kind == "reask"
    step = silent.next_step(UNRECOGNIZED, spoke=False)
    assert step.kind == "give_up" and final_intent(step, UNRECOGNIZED) == UNRECOGNIZED


def _said(text: str, scores: dict[str, float] | None = None) -> Transcription:
    return Transcription(text, 1.5, 1.5, 0.2, no_speech_prob=0.05, scores=scores or {})


def test_confirmation_yes_no_and_own_answers() -> None:
    yes = {"是": -3.0, "是的": -2.0, "不是": -12.0, "不对": -14.0, "不满意": -15.0}
    assert classify_confirmation(_said("是的", yes)).intent == BASICALLY_SATISFIED
    assert classify_confirmation(_said("对", yes)).intent == BASICALLY_SATISFIED
    # A 不 the transcript lost shows in the audio: not taken for a yes.
    lost = {"是": -4.0, "是的": -4.5, "不是": -3.5, "不对": -9.0}
    assert classify_confirmation(_said("是", lost)).intent == UNRECOGNIZED
    assert classify_confirmation(_said("不是", yes)).intent == UNRECOGNIZED
    assert classify_confirmation(_said("不满意，问题还在")).intent == "不满意"
    assert classify_confirmation(_said("转人工")).intent == "转人工"
    assert classify_confirmation(_said("今天天气")).intent == UNRECOGNIZED


def test_the_new_prompts_say_what_the_manifest_records() -> None:
    manifest = json.loads((PROMPT_DIR / "manifest.json").read_text(encoding="utf-8"))["clips"]
    library = PromptLibrary.load()
    for name, utterance in (("q_simple", library.reask()),
                            ("q_confirm_basic", library.confirm_basic()),
                            ("handoff_unclear", library.handoff_unclear())):
        assert manifest[name]["text"] == FIXED_CLIPS[name][0]
        assert name in utterance.clips and FIXED_CLIPS[name][0] in utterance.text
        assert utterance.seconds > 1.0
    assert library.reask().text == "抱歉，没有听清。满意请说满意，不满意请说不满意。"
    assert library.confirm_basic().text == "那您是基本满意吗？"
