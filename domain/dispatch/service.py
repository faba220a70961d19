"""The catalogue handlers: check the rows against the department registry, then record the
new version through the work-order service's group commit (the same store and audit
ledger as the work orders). Reading the file is the caller's business
(adapters/catalogue_files.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from domain.dispatch.catalogue import CatalogueItem, parse_catalogue
from domain.dispatch.record import CATALOGUE_ID, DispatchCatalogue
from domain.errors import InvalidInput
from domain.values import Actor

if TYPE_CHECKING:
    from domain.service import WorkOrderService


class NoCatalogue(InvalidInput):
    def __init__(self) -> None:
        super().__init__("catalogue", "尚未导入派单目录（rexian catalogue import 文件.csv）",
                         "no dispatch catalogue has been imported yet "
                         "(rexian catalogue import FILE.csv)")


class CatalogueService:
    def __init__(self, app: WorkOrderService) -> None:
        self.app = app

    def current(self, version: int | None = None) -> DispatchCatalogue | None:
        """The catalogue (as it was at `version`), or None before the first import."""
        try:
            found: DispatchCatalogue = self.app.repository.get(CATALOGUE_ID, version=version)
        except AggregateNotFoundError:
            return None
        return found

    def catalogue(self, version: int | None = None) -> DispatchCatalogue:
        found = self.current()
        if found is None:
            raise NoCatalogue()
        if version is None or version == found.version:
            return found
        if not 1 <= version <= found.version:
            raise InvalidInput("version", f"派单目录没有第 {version} 版（现有 1–{found.version} 版）",
                               f"the dispatch catalogue has no version {version} "
                               f"(versions 1-{found.version} exist)")
        old = self.current(version)
        assert old is not None
        return old

    def import_catalogue(self, rows: Iterable[Mapping[str, str | None]], *, source: str,
                         sha256: str, actor: Actor) -> dict[str, Any]:
        """Record the rows as the next version (CatalogueInvalid naming every bad row, and
        nothing recorded, when any is bad); the same items again record nothing."""
        units = {dept.name for dept in self.app.departments.all()}
        items: list[CatalogueItem] = parse_catalogue(rows, units)
        if not items:
            raise InvalidInput("catalogue", "派单目录没有任何条目", "the dispatch catalogue has no items")
        existing = self.current()
        at = self.app.now()
        if existing is not None and existing.same_rows(items):
            return {"action": "unchanged", **existing.summary()}
        if existing is None:
            record = DispatchCatalogue.record(items=items, source=source, sha256=sha256,
                                              actor=actor, at=at)
        else:
            record = existing
            record.revise(items=items, source=source, sha256=sha256, actor=actor, at=at)
        self.app._commit(record)
        return {"action": "revised" if existing else "imported", **record.summary()}
