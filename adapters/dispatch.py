"""The dispatch desk: what the front ends (CLI, gRPC) call for the dispatch catalogue
(派单目录) and the dispatch suggestions (智能派单).

It joins the catalogue handlers (domain/dispatch/service.py) to the catalogue files
(adapters/catalogue_files.py), and the suggestion ranking (domain/dispatch/ranking.py) to
the trained model (adapters/nlp/dispatch_model.py, kept in the store) and the dispatch
history read model (projections/dispatch_history.py) it is trained on.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.catalogue_files import CatalogueFile, read_catalogue, read_catalogue_bytes
from adapters.nlp.dispatch_model import DispatchModel, PastOrder
from domain.dispatch.ranking import Suggestion, suggest
from domain.dispatch.service import CatalogueService
from domain.errors import InvalidInput
from domain.values import CATEGORIES, Actor, require_choice, require_identifier, require_text
from domain.views import iso
from projections.dispatch_history import DispatchHistory, history_rows
from projections.runner import ProjectionRunner

if TYPE_CHECKING:
    from adapters.bootstrap import Engine


RUNNER = "dispatch_history"
MODELS = "rexian_dispatch_model"
KEEP_MODELS = 3  # trained models kept in the store (the newest is used)
PAGE = 10_000
_MADE = threading.Lock()  # gRPC handlers may ask for the desk at once


class NoEvidence(InvalidInput):
    def __init__(self) -> None:
        super().__init__("suggest", "没有派单目录也没有训练好的派单模型，无法给出建议"
                         "（rexian catalogue import / rexian suggest train）",
                         "no dispatch catalogue and no trained model: nothing to suggest from "
                         "(rexian catalogue import / rexian suggest train)")


class DispatchDesk:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.catalogues = CatalogueService(engine.service)
        self._model: DispatchModel | None = None
        self._model_id = 0
        blob = "BYTEA" if engine.db.postgres else "BLOB"
        with engine.db.schema_transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {MODELS} (id INTEGER PRIMARY KEY, "
                        "trained_at TEXT NOT NULL, trained_by TEXT NOT NULL, "
                        "orders INTEGER NOT NULL, position INTEGER NOT NULL, "
                        f"model {blob} NOT NULL)")

    @property
    def runner(self) -> ProjectionRunner:
        return self.engine.runners[RUNNER]

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


    # ----- the history model ------------------------------------------------------------
    def history(self, after: int = 0) -> tuple[list[PastOrder], int]:
        """Past orders changed after position `after`, and the last position read."""
        self.runner.catch_up()
        orders: list[PastOrder] = []
        position = after
        while True:
            with self.engine.db.transaction(immediate=False) as cur:
                page = history_rows(cur, position, PAGE)
            for _position, content, category, region, lead, returned in page:
                # Returned and not yet dispatched again: a return, not an answer.
                kept = "" if returned and returned[-1] == lead else lead
                orders.append(PastOrder(content, category, region, kept,
                                        tuple(u for u in returned if u != kept)))
            if page:
                position = page[-1][0]
            if len(page) < PAGE:
                return orders, position

    def train(self, *, actor: Actor, incremental: bool = False) -> dict[str, Any]:
        """Train the model on the whole dispatch history (or, `incremental`, continue the
        current one on the orders dispatched or returned since it was trained)."""
        started = time.perf_counter()
        at = iso(self.engine.service.now()) or ""
        current = self._stored()
        if incremental and current is not None:
            model, after = current
            orders, position = self.history(after)
            model.update(orders, at)
        else:
            orders, position = self.history()
            if len({o.lead for o in orders if o.lead}) < 2:
                raise InvalidInput("history", f"派单历史不足：{len(orders)} 件已派工单，"
                                   "至少需要派给两个不同单位的工单",
                                   f"not enough dispatch history: {len(orders)} dispatched "
                                   "orders; orders of at least two units are needed")
            terms = [t for item in self._items() for t in (*item.keywords, item.item)]
            model = DispatchModel(terms).fit(orders, at)
        model_id = self._store(model, actor, position)
        return {"model": model_id, "orders": model.orders, "new_orders": len(orders),
                "incremental": bool(incremental and current is not None), "trained_at": at,
                "trained_by": f"{actor.role}:{actor.id}",
                "seconds": round(time.perf_counter() - started, 2)}

    def _store(self, model: DispatchModel, actor: Actor, position: int) -> int:
        data = model.to_bytes()
        with self.engine.db.transaction() as cur:
            row = cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {MODELS}").fetchone()
            model_id = int(row[0]) + 1
            cur.execute(f"INSERT INTO {MODELS} (id, trained_at, trained_by, orders, position, "
                        "model) VALUES (?, ?, ?, ?, ?, ?)",
                        (model_id, model.trained_at, f"{actor.role}:{actor.id}", model.orders,
                         position, data))
            cur.execute(f"DELETE FROM {MODELS} WHERE id <= ?", (model_id - KEEP_MODELS,))
        self._model, self._model_id = model, model_id
        return model_id

    def _stored(self) -> tuple[DispatchModel, int] | None:
        """The newest trained model and the history position it was trained to (loaded
        once per process and again only when another process trained a newer one)."""
        with self.engine.db.transaction(immediate=False) as cur:
            head = cur.execute(f"SELECT id, position FROM {MODELS} ORDER BY id DESC LIMIT 1"
                               ).fetchone()
            if head is None:
                return None
            if int(head[0]) != self._model_id:
                data = cur.execute(f"SELECT model FROM {MODELS} WHERE id = ?",
                                   (head[0],)).fetchone()[0]
                model = DispatchModel.from_bytes(bytes(data))
                if model is None:
                    return None  # an older layout: `suggest train` makes a new one
                self._model, self._model_id = model, int(head[0])
        assert self._model is not None
        return self._model, int(head[1])

    def model(self) -> DispatchModel | None:
        stored = self._stored()
        return stored[0] if stored else None

    def _items(self) -> list[Any]:
        catalogue = self.catalogues.current()
        return catalogue.items() if catalogue is not None else []

    # ----- suggestions --------------------------------------------------------------------
    def suggest(self, *, content: str, category: str, region: str) -> dict[str, Any]:
        """The top units for a request: {"suggestions": [{"dept", "score", "reason", …}]}."""
        content = require_text("content", content, "诉求内容")
        require_choice("category", category, CATEGORIES, "诉求类别")
        region = require_identifier("region", region, "所属区域", 100)
        return {"suggestions": [s.as_dict() for s in self.ranked(content, category, region)]}

    def ranked(self, content: str, category: str, region: str) -> list[Suggestion]:
        catalogue = self.catalogues.current()
        model = self.model()
        if catalogue is None and model is None:
            raise NoEvidence()
        return suggest(content=content, category=category, region=region,
                       items=catalogue.items() if catalogue else [],
                       catalogue_version=catalogue.version if catalogue else None,
                       model=model)

    def suggest_order(self, ticket_no: str) -> dict[str, Any]:
        order = self.engine.service.load(ticket_no)
        result = {"ticket_no": order.ticket_no,
                  "suggestions": [s.as_dict() for s in self.ranked(
                      order.content, order.category, order.region)]}
        return result


def desk(engine: Engine) -> DispatchDesk:
    """The engine's dispatch desk (made on first use: commands that never suggest pay
    nothing for it)."""
    found: DispatchDesk | None = getattr(engine, "_dispatch_desk", None)
    if found is not None:
        return found
    with _MADE:
        found = getattr(engine, "_dispatch_desk", None)
        if found is not None:
            return found
        if RUNNER not in engine.runners:
            engine.runners[RUNNER] = ProjectionRunner(engine.service, engine.db,
                                                      DispatchHistory())
        found = DispatchDesk(engine)
        engine._dispatch_desk = found  # type: ignore[attr-defined]
    return found
