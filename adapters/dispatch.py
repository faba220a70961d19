"""The dispatch desk: what the front ends (CLI, gRPC) call for the dispatch catalogue
(派单目录) and the dispatch suggestions (智能派单).

It joins the catalogue handlers (domain/dispatch/service.py) to the catalogue files
(adapters/catalogue_files.py), and the suggestion ranking (domain/dispatch/ranking.py) to
the trained model (adapters/nlp/dispatch_model.py, kept in the store) and the dispatch
history read model (projections/dispatch_history.py) it is trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.catalogue_files import CatalogueFile, read_catalogue, read_catalogue_bytes
from domain.dispatch.service import CatalogueService
from domain.values import Actor

if TYPE_CHECKING:
    from adapters.bootstrap import Engine


class DispatchDesk:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.catalogues = CatalogueService(engine.service)

    # ----- the catalogue ----------------------------------------------------------------
    def import_catalogue(self, file: str | Path | CatalogueFile, *, actor: Actor
                         ) -> dict[str, Any]:
        """Record the file's catalogue as the next version (nothing when any row is bad,
        or when it holds the same items as the current version)."""
        read = file if isinstance(file, CatalogueFile) else read_catalogue(file)
        return self.catalogues.import_catalogue(read.rows, source=read.name, sha256=read.sha256,
                                                actor=actor)

    def import_catalogue_bytes(self, name: str, data: bytes, *, actor: Actor) -> dict[str, Any]:
        return self.import_catalogue(read_catalogue_bytes(name, data), actor=actor)

    def list_catalogue(self, version: int | None = None) -> dict[str, Any]:
        catalogue = self.catalogues.catalogue(version)
        return {**catalogue.summary(), "rows": catalogue.rows}


def desk(engine: Engine) -> DispatchDesk:
    """The engine's dispatch desk (made on first use)."""
    found: DispatchDesk | None = getattr(engine, "_dispatch_desk", None)
    if found is None:
        found = DispatchDesk(engine)
        engine._dispatch_desk = found  # type: ignore[attr-defined]
    return found
