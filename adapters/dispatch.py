"""The dispatch desk: what the front ends (CLI, gRPC) call for the dispatch catalogue
(派单目录) and the dispatch suggestions (智能派单).

It joins the catalogue handlers (domain/dispatch/service.py) to the catalogue files
(adapters/catalogue_files.py), and the suggestion ranking (domain/dispatch/ranking.py) to
the trained model (adapters/nlp/dispatch_model.py, kept in the store) and the dispatch
history read model (projections/dispatch_history.py) it is trained on.
"""

from __future__ import annotations

import os
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.catalogue_files import CatalogueFile, read_catalogue, read_catalogue_bytes
from adapters.nlp.dispatch_model import DispatchModel, PastOrder, ServingModel
from domain.dispatch.ranking import Suggestion, suggest
from domain.dispatch.service import CatalogueService
from domain.errors import DomainError, InvalidInput, shown
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
POLICY_FILE = Path(__file__).resolve().parent.parent / "config" / "dispatch.toml"
AUTO_ACTOR = Actor("robot", "auto-dispatch")


@dataclass(frozen=True)
class AutoDispatch:
    """config/dispatch.toml's [auto_dispatch]: when intake dispatches by itself."""

    enabled: bool = False
    threshold: float = 0.8
    margin: float = 0.2
    categories: tuple[str, ...] = ("求助", "投诉", "举报", "建议")

    def chooses(self, category: str, ranked: list[Suggestion]) -> Suggestion | None:
        """The suggestion to dispatch to, or None (off, a category it leaves to people,
        a score below the threshold, or a runner-up too close)."""
        if not self.enabled or category not in self.categories or not ranked:
            return None
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score < self.threshold or top.score - runner_up < self.margin:
            return None
        return top


def _policy(path: str | Path | None) -> tuple[dict[str, Any], Any]:
    """The policy file's TOML (`path`, $REXIAN_DISPATCH_FILE or config/dispatch.toml) and
    a maker of refusals naming it."""
    file = Path(path or os.environ.get("REXIAN_DISPATCH_FILE") or POLICY_FILE)

    def bad(zh: str, en: str) -> InvalidInput:
        return InvalidInput("dispatch_policy", f"自动派单策略 {shown(file.name, 80)}：{zh}",
                            f"auto-dispatch policy {shown(file.name, 80)}: {en}")

    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise bad(f"无法读取（{shown(error, 100)}）", f"cannot be read ({shown(error, 100)})"
                  ) from None
    except tomllib.TOMLDecodeError as error:
        raise bad(f"格式错误：{shown(error, 100)}", f"malformed: {shown(error, 100)}") from None
    return data, bad


def _section(data: dict[str, Any], name: str, keys: set[str], bad: Any) -> dict[str, Any]:
    section = data.get(name, {})
    unknown = sorted(set(section) - keys) if isinstance(section, dict) else []
    if not isinstance(section, dict) or unknown:
        raise bad(f"[{name}] 未知的键：{'、'.join(unknown)}",
                  f"[{name}] unknown key(s): {', '.join(unknown)}")
    return section


def load_auto_dispatch(path: str | Path | None = None) -> AutoDispatch:
    """The policy from `path`, $REXIAN_DISPATCH_FILE or config/dispatch.toml; a bad key or
    value is refused naming it."""
    data, bad = _policy(path)
    section = _section(data, "auto_dispatch", {"enabled", "threshold", "margin", "categories"},
                       bad)
    policy = AutoDispatch()
    enabled = section.get("enabled", policy.enabled)
    threshold = section.get("threshold", policy.threshold)
    margin = section.get("margin", policy.margin)
    categories = section.get("categories", list(policy.categories))
    if not isinstance(enabled, bool):
        raise bad("enabled 应为 true 或 false", "enabled must be true or false")
    for name, value in (("threshold", threshold), ("margin", margin)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise bad(f"{name} 应为 0 到 1 之间的数", f"{name} must be a number from 0 to 1")
    if not isinstance(categories, list) or any(c not in CATEGORIES for c in categories):
        raise bad(f"categories 应为诉求类别的列表（{'、'.join(CATEGORIES)}）",
                  f"categories must be a list of {', '.join(CATEGORIES)}")
    return AutoDispatch(enabled, float(threshold), float(margin), tuple(categories))


def load_retraining_hours(path: str | Path | None = None) -> float:
    """[retraining] every_hours of the policy file: how often `rexian serve` continues the
    model on the new dispatch history (0: never); a bad value is refused naming it."""
    data, bad = _policy(path)
    hours = _section(data, "retraining", {"every_hours"}, bad).get("every_hours", 24.0)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 <= hours <= 8760:
        raise bad("every_hours 应为 0 到 8760 之间的小时数",
                  "every_hours must be a number of hours from 0 to 8760")
    return float(hours)


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
        self._model: ServingModel | None = None
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
        current = self._training() if incremental else None
        if current is not None:
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
                "incremental": current is not None, "trained_at": at,
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
        self._model, self._model_id = model.serving(), model_id
        return model_id

    def _newest(self, cur: Any) -> tuple[int, int] | None:
        head = cur.execute(f"SELECT id, position FROM {MODELS} ORDER BY id DESC LIMIT 1"
                           ).fetchone()
        return (int(head[0]), int(head[1])) if head is not None else None

    def _blob(self, cur: Any, model_id: int) -> bytes:
        return bytes(cur.execute(f"SELECT model FROM {MODELS} WHERE id = ?",
                                 (model_id,)).fetchone()[0])

    def model(self) -> ServingModel | None:
        """The newest trained model, for answering (loaded once per process and again only
        when another process trained a newer one); None before the first training, or
        when the stored one is of an older layout (`suggest train` makes a new one)."""
        with self.engine.db.transaction(immediate=False) as cur:
            newest = self._newest(cur)
            if newest is None:
                return None
            if newest[0] != self._model_id:
                self._model = ServingModel.from_bytes(self._blob(cur, newest[0]))
                self._model_id = newest[0]
        return self._model

    def _training(self) -> tuple[DispatchModel, int] | None:
        """The newest model for further training, and the history position it reached."""
        with self.engine.db.transaction(immediate=False) as cur:
            newest = self._newest(cur)
            if newest is None:
                return None
            model = DispatchModel.from_bytes(self._blob(cur, newest[0]))
        return (model, newest[1]) if model is not None else None

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
                       model=model, units={d.name for d in self.engine.departments.all()})

    def intake_advice(self, ticket_no: str) -> dict[str, Any]:
        """What intake shows with a new order: its dispatch suggestions and, when the
        policy (config/dispatch.toml) is on and the best one is clear enough, the automatic
        dispatch to it (robot actor; the suggestion recorded with the Dispatched). The
        order is already recorded: a problem here is reported, never raised."""
        try:
            order = self.engine.service.load(ticket_no)
            catalogue = self.catalogues.current()
            ranked = self.ranked(order.content, order.category, order.region)
            policy = load_auto_dispatch()
            chosen = policy.chooses(order.category, ranked)
            if chosen is None:
                return {"dispatch_suggestions": [s.as_dict() for s in ranked],
                        "auto_dispatched": None}
            self.engine.service.dispatch(
                ticket_no, dept=chosen.dept, assist=list(chosen.assist), actor=AUTO_ACTOR,
                suggested={"suggestions": [s.as_dict() for s in ranked],
                           "threshold": policy.threshold,
                           "catalogue_version": catalogue.version if catalogue else None})
        except NoEvidence:
            return {"dispatch_suggestions": [], "auto_dispatched": None}
        except DomainError as error:
            return {"dispatch_suggestions": [], "auto_dispatched": None,
                    "dispatch_advice_error": {"zh": error.zh, "en": error.en}}
        return {**self.engine.service.show(ticket_no),
                "dispatch_suggestions": [s.as_dict() for s in ranked],
                "auto_dispatched": chosen.dept}

    def suggest_order(self, ticket_no: str) -> dict[str, Any]:
        order = self.engine.service.load(ticket_no)
        result = {"ticket_no": order.ticket_no,
                  "suggestions": [s.as_dict() for s in self.ranked(
                      order.content, order.category, order.region)]}
        return result


def intake_advice(engine: Engine, ticket_no: str) -> dict[str, Any]:
    """DispatchDesk.intake_advice on the engine's desk (the CLI's intake adds it)."""
    return desk(engine).intake_advice(ticket_no)


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


RETRAIN_ACTOR = Actor("system", "dispatch-retrainer")
IDLE_RECHECK_HOURS = 1.0  # after finding no new history: look again this much later


class RetrainSchedule:
    """Incremental retraining inside `rexian serve`: once the newest stored model is
    `every_hours` old (config/dispatch.toml [retraining], 24 by default, 0 never), the model
    is continued on the orders dispatched or returned since it was trained, as `rexian
    suggest train --incremental` does, by the actor system:dispatch-retrainer, and stored
    beside the others (so every process of the store answers with it, and a restarted serve
    knows when the last one was made). No new history: nothing is stored, and it looks again
    an hour later. The first model is a person's decision (`rexian suggest train`).

    `poll()` (each turn of serve's loop) trains in a thread of its own, so deadline ticks
    never wait for a training; `run_once()` trains in the caller's thread."""

    def __init__(self, engine: Engine, every_hours: float | None = None) -> None:
        self.desk = desk(engine)
        self.every_hours = load_retraining_hours() if every_hours is None else every_hours
        self._idle_until: float | None = None
        self._thread: threading.Thread | None = None
        self.last: dict[str, Any] | None = None  # the last training it did
        self._report: str | None = None  # what poll() has to say about the last training

    def _due(self) -> tuple[bool, float]:
        now = self.desk.engine.service.now().timestamp()
        if self.every_hours <= 0 or (self._idle_until is not None and now < self._idle_until):
            return False, now
        with self.desk.engine.db.transaction(immediate=False) as cur:
            head = cur.execute(f"SELECT trained_at FROM {MODELS} ORDER BY id DESC LIMIT 1"
                               ).fetchone()
        if head is None:
            return False, now
        trained = datetime.fromisoformat(str(head[0])).timestamp()
        return now - trained >= self.every_hours * 3600, now

    def run_once(self) -> dict[str, Any] | None:
        """Continue the model if it is due and the history grew; what `train` said, or None."""
        due, now = self._due()
        if not due:
            return None
        current = self.desk._training()
        if current is None:  # a model of an older layout: `suggest train` makes a new one
            return None
        if not self.desk.history(current[1])[0]:
            self._idle_until = now + min(self.every_hours, IDLE_RECHECK_HOURS) * 3600
            return None
        self._idle_until = None
        self.last = self.desk.train(actor=RETRAIN_ACTOR, incremental=True)
        return self.last

    def _run(self) -> None:
        try:
            done = self.run_once()
        except DomainError as error:  # said by serve's loop, tried again next interval
            self._report = f"dispatch model: 错误 / error: {error}"
            return
        if done is not None:
            self._report = (f"dispatch model {done['model']}: continued on {done['new_orders']}"
                            f" new orders ({done['orders']} in all, {done['seconds']} s)")

    def poll(self) -> str | None:
        """Start a training in the background when one is due (and none is running); a
        line about a training that finished since the last poll, if one did."""
        report, self._report = self._report, None
        if self._thread is not None and self._thread.is_alive():
            return report
        if self._due()[0]:
            self._thread = threading.Thread(target=self._run, name="rexian-retrain",
                                            daemon=True)
            self._thread.start()
        return report

    def wait(self, timeout: float | None = None) -> None:
        """Let a training in progress finish (serve's shutdown; tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
