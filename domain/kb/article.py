"""A knowledge-base article: one aggregate per article key, so the aggregate's version is
the article's version and every answer can cite "KEY vN". Events are chained like a work
order's (domain/campaign/chained.py), so `rexian verify` covers them. An index aggregate
lists the keys, so the base loads without scanning the log.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.audit import GENESIS
from domain.campaign.chained import ChainedEvent, emit
from domain.kb.content import CONTENT_FIELDS
from domain.values import Actor

KB_NAMESPACE = uuid.UUID("6b620a1e-2f4c-4d3a-8e15-6b6e6f776c65")
INDEX_ID = uuid.uuid5(KB_NAMESPACE, "kb-index")


def article_id(key: str) -> UUID:
    return uuid.uuid5(KB_NAMESPACE, f"kb-article:{key}")


class KbArticle(Aggregate):
    """State is plain data (dates as ISO text, lists as lists) so snapshots serialise."""

    class Event(ChainedEvent):
        pass

    def __init__(self) -> None:
        self.key = ""
        self.title = ""
        self.domain = ""
        self.questions: list[str] = []
        self.short_answer = ""
        self.full_text = ""
        self.follow_ups: list[str] = []
        self.source = ""
        self.valid_from = ""
        self.valid_to = ""
        self.unit = ""
        self.file = ""  # the file this version was imported from, and its digest
        self.sha256 = ""
        self.chain_head = GENESIS

    class Content(Event):
        key: str
        title: str
        domain: str
        questions: list[str]
        short_answer: str
        full_text: str
        follow_ups: list[str]
        source: str
        valid_from: str
        valid_to: str
        unit: str
        file: str
        sha256: str

        def apply(self, article: KbArticle) -> None:
            article.key, article.file, article.sha256 = self.key, self.file, self.sha256
            for name in CONTENT_FIELDS:
                value = getattr(self, name)
                setattr(article, name, list(value) if isinstance(value, list) else value)

    class Published(Content, Aggregate.Created):
        pass

    class Revised(Content):
        pass

    @classmethod
    def publish(cls, content: dict[str, Any], *, file: str, sha256: str, actor: Actor,
                at: datetime) -> KbArticle:
        return cls._create(cls.Published, id=article_id(content["key"]), timestamp=at,
                           actor_role=actor.role, actor_id=actor.id, prev_hash=GENESIS,
                           file=file, sha256=sha256, **content)

    def revise(self, content: dict[str, Any], *, file: str, sha256: str, actor: Actor,
               at: datetime) -> None:
        emit(self, self.Revised, actor, at, file=file, sha256=sha256, **content)

    def content(self) -> dict[str, Any]:
        return {"key": self.key, **{n: getattr(self, n) for n in CONTENT_FIELDS}}

    def valid_on(self, day: date) -> bool:
        """Expired or not-yet-valid articles are never answered."""
        iso = day.isoformat()
        return (not self.valid_from or self.valid_from <= iso) and (
            not self.valid_to or iso <= self.valid_to)

    def summary(self) -> dict[str, Any]:
        return {**self.content(), "version": self.version, "citation": self.citation,
                "file": self.file}

    @property
    def citation(self) -> str:
        return f"{self.key} v{self.version}"


class KbIndex(Aggregate):
    """The keys of every article ever imported (articles are never deleted; they expire)."""

    class Event(ChainedEvent):
        pass

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.chain_head = GENESIS

    class Opened(Event, Aggregate.Created):
        pass

    class KeysAdded(Event):
        keys: list[str]

        def apply(self, index: KbIndex) -> None:
            index.keys = [*index.keys, *self.keys]

    @classmethod
    def open(cls, actor: Actor, at: datetime) -> KbIndex:
        return cls._create(cls.Opened, id=INDEX_ID, timestamp=at, actor_role=actor.role,
                           actor_id=actor.id, prev_hash=GENESIS)

    def add(self, keys: list[str], actor: Actor, at: datetime) -> None:
        emit(self, self.KeysAdded, actor, at, keys=list(keys))
