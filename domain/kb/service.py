"""Knowledge-base handlers: import a checked file's articles as new versions (only those
whose content changed; all in one commit through the work-order service's group commit,
so the base and its audit chain are one store), and read the base."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.errors import InvalidInput, shown
from domain.kb.article import INDEX_ID, KbArticle, KbIndex, article_id
from domain.kb.content import RawArticle, check_articles
from domain.values import Actor

if TYPE_CHECKING:
    from domain.service import WorkOrderService


class SourceFile(Protocol):
    """A read file: its name, digest and raw articles (adapters/kb_files.py's KbFile)."""

    @property
    def name(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def articles(self) -> list[RawArticle]: ...


class KnowledgeBaseService:
    def __init__(self, app: WorkOrderService) -> None:
        self.app = app

    def _index(self) -> KbIndex | None:
        try:
            index: KbIndex = self.app.repository.get(INDEX_ID)
        except AggregateNotFoundError:
            return None
        return index

    def keys(self) -> list[str]:
        index = self._index()
        return list(index.keys) if index else []

    def articles(self) -> list[KbArticle]:
        return [self.app.repository.get(article_id(k)) for k in self.keys()]

    def article(self, key: str, version: int | None = None) -> KbArticle:
        if key not in self.keys():
            raise InvalidInput("key", f"知识库没有条目 {shown(key, 30)}",
                               f"the knowledge base has no article {shown(key, 30)}")
        current: KbArticle = self.app.repository.get(article_id(key))
        if version is None or version == current.version:
            return current
        if not 1 <= version <= current.version:
            raise InvalidInput("version", f"{key} 没有第 {version} 版（现有 1–{current.version} 版）",
                               f"{key} has no version {version} (1-{current.version} exist)")
        old: KbArticle = self.app.repository.get(article_id(key), version=version)
        return old

    def import_articles(self, files: Sequence[SourceFile], *, actor: Actor) -> dict[str, Any]:
        """Record the files' articles in one commit (KbInvalid, nothing recorded, if any is
        bad; follow-ups may name an article of any of the files or of the base): new ones
        published, changed ones revised, the same content left alone."""
        index = self._index()
        known = list(index.keys) if index else []
        names = "、".join(f.name for f in files)
        raw = [article for f in files for article in f.articles]
        contents = check_articles(names, raw, known)
        origin = {id(article): f for f in files for article in f.articles}
        at = self.app.now()
        index = index or KbIndex.open(actor, at)
        changed: list[Aggregate] = []
        result: dict[str, list[str]] = {"published": [], "revised": [], "unchanged": []}
        for article_raw, content in zip(raw, contents, strict=True):
            file, sha256 = origin[id(article_raw)].name, origin[id(article_raw)].sha256
            if content["key"] in known:
                article: KbArticle = self.app.repository.get(article_id(content["key"]))
                if article.content() == content:
                    result["unchanged"].append(content["key"])
                    continue
                article.revise(content, file=file, sha256=sha256, actor=actor, at=at)
                result["revised"].append(content["key"])
            else:
                article = KbArticle.publish(content, file=file, sha256=sha256, actor=actor,
                                            at=at)
                result["published"].append(content["key"])
            changed.append(article)
        if result["published"]:
            index.add(result["published"], actor, at)
            changed.append(index)
        if changed:
            self.app._commit(*changed)
        return {**result, "files": [{"file": f.name, "sha256": f.sha256,
                                     "articles": len(f.articles)} for f in files],
                "articles": len(known) + len(result["published"])}
