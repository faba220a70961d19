"""What the inbound robot does after each turn: the dialogue policy, apart from media and
from how a turn is understood (adapters/inbound/understanding.py classifies it).

* First, before a word: a 老年一键通 or VIP caller goes to a person (``open``).
* 转人工 (asked for, also in dialect) → a person, with the transcript, intent and draft.
* A policy question → the article's short answer, cited, then its follow-ups offered; a
  domain another line serves → transferred to that line (no redial).
* 查询 + 工单号 → the order's state and expected completion, read back (only to the number
  that registered it: the adapter checks).
* A new request → a draft order (category, region, content: 智能填单) handed to an agent to
  confirm, or registered by the robot for the categories the rules allow.
* Not understood → asked again; the rules' ``max_unrecognised``-th failure, or speech that
  is not Mandarin the robot can handle, hands off without more asking.
* The same question again right after its answer (the turn finds the article just spoken)
  → a person: the answer did not help, and reading it out a second time would not either.
* 发短信 after an answer → the article's full text by SMS (the SMS port), then listen again.
* 没有了 / 再见 → goodbye.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from domain.inbound.routing import PRIORITY_NORMAL, InboundRules, Line, Route

POLICY: Final = "政策咨询"
PROGRESS: Final = "进度查询"
NEW_REQUEST: Final = "新诉求"
HANDOFF: Final = "转人工"
GOODBYE: Final = "结束"
SMS: Final = "发短信"
UNRECOGNISED: Final = "未识别"
INTENTS: Final = (POLICY, PROGRESS, NEW_REQUEST, HANDOFF, GOODBYE, SMS, UNRECOGNISED)

StepKind = Literal["greet", "answer", "sms", "progress", "register", "registered_again",
                   "handoff", "transfer", "reask", "goodbye"]


@dataclass(frozen=True)
class ArticleRef:
    """An article as the robot may speak it: cited by key and version."""
    key: str
    version: int
    title: str
    domain: str
    short_answer: str
    follow_ups: tuple[str, ...] = ()  # titles of the follow-up articles

    @property
    def citation(self) -> str:
        return f"{self.key} v{self.version}"


@dataclass(frozen=True)
class Draft:
    """智能填单: the order the caller's words describe, for an agent to confirm."""
    category: str
    region: str
    content: str


@dataclass(frozen=True)
class Heard:
    """One understood turn."""
    intent: str
    transcript: str
    mandarin: bool = True
    article: ArticleRef | None = None
    ticket: str | None = None
    draft: Draft | None = None


@dataclass(frozen=True)
class Step:
    kind: StepKind
    reason: str = ""
    priority: int = PRIORITY_NORMAL
    article: ArticleRef | None = None
    ticket: str | None = None
    draft: Draft | None = None
    line: Line | None = None

    @property
    def listen(self) -> bool:
        """Whether the caller is heard again after this step is said."""
        return self.kind in ("greet", "answer", "sms", "progress", "registered_again",
                             "reask")


@dataclass
class InboundDialogue:
    rules: InboundRules
    line: Line
    caller: str
    failed: int = 0
    last_article: ArticleRef | None = None
    draft: Draft | None = None
    registered: Draft | None = None  # the request the robot registered in this call
    heard: list[Heard] = field(default_factory=list)

    def open(self) -> Step:
        route: Route | None = self.rules.first_route(self.caller, self.line)
        if route is not None:
            return Step("handoff", reason=route.reason, priority=route.priority)
        return Step("greet")

    def next_step(self, turn: Heard) -> Step:
        self.heard.append(turn)
        if not turn.mandarin:
            return Step("handoff", reason="非普通话，机器人无法处理")
        if turn.intent == HANDOFF:
            return Step("handoff", reason="来电人要求转人工", draft=self.draft)
        if turn.intent == GOODBYE:
            return Step("goodbye")
        if turn.intent == SMS and self.last_article is not None:
            self.failed = 0
            return Step("sms", article=self.last_article)
        if turn.intent == POLICY and turn.article is not None:
            self.failed = 0
            other = self.rules.line_serving(turn.article.domain, self.line)
            if other is not None:
                return Step("transfer", reason=f"{turn.article.domain}问题由{other.name}受理",
                            article=turn.article, line=other)
            if self._asked_again(turn.article):
                return Step("handoff", reason="答复后再次询问同一问题", draft=self.draft)
            self.last_article = turn.article
            return Step("answer", article=turn.article)
        if turn.intent == PROGRESS and turn.ticket:
            self.failed = 0
            return Step("progress", ticket=turn.ticket)
        if turn.intent == NEW_REQUEST and turn.draft is not None:
            self.draft = turn.draft
            if turn.draft.category in self.rules.direct_register:
                if self._registers_again(turn.draft):
                    return Step("registered_again", draft=self.registered)
                self.registered = turn.draft
                return Step("register", draft=turn.draft)
            return Step("handoff", reason="新诉求，请坐席确认工单", draft=turn.draft)
        self.failed += 1
        if self.failed >= self.rules.max_unrecognised:
            return Step("handoff", reason=f"连续 {self.failed} 次未能识别", draft=self.draft)
        return Step("reask")

    def _registers_again(self, draft: Draft) -> bool:
        """The caller repeats the request just registered (the turn before registered one of
        the same category): one order, its number said again, not a second order."""
        before = self.heard[-2] if len(self.heard) >= 2 else None
        return (before is not None and before.intent == NEW_REQUEST and before.draft is not None
                and before.draft.category == draft.category and self.registered is not None
                and self.registered.category == draft.category)

    def _asked_again(self, article: ArticleRef) -> bool:
        """The turn before this one was answered with the same article."""
        before = self.heard[-2] if len(self.heard) >= 2 else None
        return (before is not None and before.intent == POLICY and before.article is not None
                and before.article.key == article.key and self.last_article is not None
                and self.last_article.key == article.key)
