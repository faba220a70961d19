"""The knowledge base on an engine: import files, list and show articles, search the ones
valid today (`rexian kb ...`, the inbound robot, the console's agent assist)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.kb_files import KbFile, read_kb_bytes, read_kb_file
from adapters.kb_search import Retriever, Vocabulary, answer, answers
from domain.errors import InvalidInput
from domain.histories import aggregate_history
from domain.kb.article import KbArticle, article_id
from domain.kb.service import KnowledgeBaseService
from domain.kpi.registry import BEIJING
from domain.values import Actor

if TYPE_CHECKING:
    from adapters.bootstrap import Engine

log = logging.getLogger(__name__)
MAX_QUERY = 500  # characters of a question (a transcript of a long turn is cut, not refused)
MAX_LIMIT = 50


class KbDesk:
    def __init__(self, engine: Engine, vocabulary: Vocabulary | None = None) -> None:
        self.engine = engine
        self.service = KnowledgeBaseService(engine.service)
        self.vocabulary = vocabulary or Vocabulary.load()
        self._lock = threading.Lock()
        self._built: tuple[tuple[tuple[str, int], ...], Retriever] | None = None
        self._seen: tuple[int, date] | None = None  # (log position, day) last checked

    def import_files(self, files: Sequence[str | Path | KbFile], *, actor: Actor
                     ) -> dict[str, Any]:
        """Every file read (a bad one refused, naming it) before anything is recorded."""
        read = [f if isinstance(f, KbFile) else read_kb_file(f) for f in files]
        if not read:
            raise InvalidInput("file", "请给出知识库文件", "give the knowledge-base file(s)")
        return self.service.import_articles(read, actor=actor)

    def import_file(self, file: str | Path | KbFile, *, actor: Actor) -> dict[str, Any]:
        return self.import_files([file], actor=actor)

    def import_bytes(self, name: str, data: bytes, *, actor: Actor) -> dict[str, Any]:
        return self.import_file(read_kb_bytes(name, data), actor=actor)

    def today(self) -> date:
        return self.engine.service.now().astimezone(BEIJING).date()

    def list(self, *, on: date | None = None) -> dict[str, Any]:
        day = on or self.today()
        return {"on": day.isoformat(), "articles": [
            {**a.summary(), "valid": a.valid_on(day)} for a in self.service.articles()]}

    def show(self, key: str, version: int | None = None) -> dict[str, Any]:
        article = self.service.article(key, version)
        return {**article.summary(), "valid": article.valid_on(self.today())}

    def history(self, key: str, as_of: datetime | None = None) -> dict[str, Any]:
        """An article as it was at `as_of` (its version then) and every event up to then."""
        self.service.article(key)  # an unknown key is refused, naming it
        return aggregate_history(self.engine.service, article_id(key), key, as_of,
                                 lambda a: {**a.summary(), "valid": a.valid_on(self.today())})

    def retriever(self, on: date) -> Retriever:
        """Over the articles valid on `on`; rebuilt when any version or validity changed.
        While the store's log has not grown the articles are not even reloaded (an agent's
        every keystroke searches)."""
        position = self.engine.service.recorder.max_notification_id() or 0
        with self._lock:
            if self._seen == (position, on) and self._built is not None:
                return self._built[1]
        valid = [a for a in self.service.articles() if a.valid_on(on)]
        stamp = tuple((a.key, a.version) for a in valid)
        with self._lock:
            if self._built is None or self._built[0] != stamp:
                self._built = (stamp, Retriever(valid, self.vocabulary))
            self._seen = (position, on)
            return self._built[1]

    def warm(self) -> threading.Thread:
        """Build today's retriever in the background (the first agent-assist search would
        otherwise wait seconds for jieba's dictionary and the index)."""
        def build() -> None:
            try:
                self.retriever(self.today())
            except Exception:  # noqa: BLE001 - the first search builds it again and says why
                log.warning("knowledge base: warming the retriever failed", exc_info=True)
        thread = threading.Thread(target=build, name="kb-warm", daemon=True)
        thread.start()
        return thread

    def search(self, text: str, *, limit: int = 5, on: date | None = None
               ) -> dict[str, Any]:
        """The best articles for `text`, and the answer (the best, if it scores and covers
        enough: kb_search.answers; else None: nothing in the base answers it)."""
        if not text.strip():
            raise InvalidInput("text", "请给出要查询的问题", "give the question to search for")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput("limit", f"--limit 应在 1–{MAX_LIMIT} 之间",
                               f"--limit must be 1-{MAX_LIMIT}")
        day = on or self.today()
        hits = self.retriever(day).search(text[:MAX_QUERY], limit)
        best = hits[0] if hits and answers(hits[0]) else None
        return {"query": text[:MAX_QUERY], "on": day.isoformat(),
                "answer": answer(best) if best else None,
                "hits": [answer(h) for h in hits]}

    def valid_article(self, key: str) -> KbArticle | None:
        """The article if it may be spoken today (never an expired one)."""
        try:
            article = self.service.article(key)
        except InvalidInput:
            return None
        return article if article.valid_on(self.today()) else None


def kb_desk(engine: Engine) -> KbDesk:
    """The engine's knowledge-base desk (made on first use; its retriever is kept)."""
    found: KbDesk | None = getattr(engine, "_kb_desk", None)
    if found is None:
        found = KbDesk(engine)
        engine._kb_desk = found  # type: ignore[attr-defined]
    return found
