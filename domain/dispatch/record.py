"""The dispatch catalogue as the centre recorded it: one event-sourced aggregate whose
version is the catalogue's version.

Every accepted import is one event carrying the whole catalogue (its rows, the file's name
and digest, who imported it, when), so any earlier version can be read back as it was
(`rexian catalogue list --version N`) and the audit chain (`rexian verify`) covers it like
a work order's stream. Rows are checked (domain/dispatch/catalogue.py) before anything is
recorded: a bad catalogue records nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.audit import GENESIS
from domain.campaign.chained import ChainedEvent, emit
from domain.dispatch.catalogue import CatalogueItem
from domain.values import Actor
from domain.views import iso

# One catalogue per centre (a centre's store serves one hotline).
CATALOGUE_ID: UUID = uuid.uuid5(uuid.UUID("5d1f7a0e-2c4b-4e8a-8f3d-646973706174"),
                                "dispatch-catalogue")


class DispatchCatalogue(Aggregate):
    """State is plain data (rows as dicts) so snapshots serialise."""

    class Event(ChainedEvent):
        pass

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.source = ""
        self.sha256 = ""
        self.imported_at: datetime | None = None
        self.imported_by = ""
        self.chain_head = GENESIS

    class Content(Event):
        """What every version carries: the whole catalogue and where it came from."""

        rows: list[dict[str, Any]]
        source: str  # the imported file's name
        sha256: str  # the imported file's digest

        def apply(self, catalogue: DispatchCatalogue) -> None:
            catalogue.rows = [dict(row) for row in self.rows]
            catalogue.source = self.source
            catalogue.sha256 = self.sha256
            catalogue.imported_at = self.timestamp
            catalogue.imported_by = f"{self.actor_role}:{self.actor_id}"

    class Imported(Content, Aggregate.Created):
        pass

    class Revised(Content):
        pass

    @classmethod
    def record(cls, *, items: list[CatalogueItem], source: str, sha256: str, actor: Actor,
               at: datetime) -> DispatchCatalogue:
        return cls._create(cls.Imported, id=CATALOGUE_ID, timestamp=at,
                           rows=[item.as_row() for item in items], source=source,
                           sha256=sha256, actor_role=actor.role, actor_id=actor.id,
                           prev_hash=GENESIS)

    def revise(self, *, items: list[CatalogueItem], source: str, sha256: str, actor: Actor,
               at: datetime) -> None:
        emit(self, self.Revised, actor, at, rows=[item.as_row() for item in items],
             source=source, sha256=sha256)

    def same_rows(self, items: list[CatalogueItem]) -> bool:
        """The same items as recorded (the file may differ in order, spacing or format)."""
        return sorted(self.rows, key=_code) == sorted((i.as_row() for i in items), key=_code)

    def items(self) -> list[CatalogueItem]:
        return [CatalogueItem.from_row(row) for row in self.rows]

    def summary(self) -> dict[str, Any]:
        return {"version": self.version, "items": len(self.rows), "source": self.source,
                "sha256": self.sha256,
                "imported_at": iso(self.imported_at) if self.imported_at else None,
                "imported_by": self.imported_by}


def _code(row: dict[str, Any]) -> str:
    return str(row["code"])
