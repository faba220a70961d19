"""The duplicate desk: candidate duplicates (并单建议) and mass-complaint alerts (群诉预警).

It joins the recent-order index (projections/duplicates.py), the similarity scorer
(adapters/text_similarity.py) and the alert aggregate (domain/duplicates/alert.py), saved
through the work-order service's group commit like every aggregate.

The detector examines each registered order once, in log order, from its own position
(`rexian_dup_detector`, outside the read model: a rebuild of the index does not make it
examine anything again). Examining is idempotent besides: an alert is keyed by the order
that raised it and an order already in an alert adds nothing, so two processes examining
the same order, or a crash between saving an alert and moving the position, record nothing
twice. It runs after each intake on the CLI and on `rexian duplicates scan` (the engine's
tick loop can call `scan`).

A store opened for the first time by this version starts the detector at the log's head:
orders registered before are candidates for duplicates, but raise no alert about the past.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from adapters.text_similarity import similarity_matrix, similarity_scores
from domain.duplicates.alert import DETECTOR, MassComplaintAlert, alert_ref, alert_uuid
from domain.duplicates.clusters import Join, Neighbour, Raise, decide, linked
from domain.duplicates.settings import DuplicateSettings, load_settings
from domain.errors import InvalidInput, UnknownTicket, shown
from domain.histories import aggregate_history
from domain.lifecycle import OPEN_STATES, WITHDRAWN
from domain.values import require_ticket_no
from domain.views import iso
from projections import duplicates as index
from projections.runner import ProjectionRunner

if TYPE_CHECKING:
    from adapters.bootstrap import Engine
    from adapters.sqldb import SqlDatabase

DETECTOR_TABLE = "rexian_dup_detector"
RUNNER = "duplicates"
DAY = 86400.0
MERGE_REASON = "重复诉求（并单建议）"


def start_detector(db: SqlDatabase, head: int) -> None:
    """Create the detector's position on first use, at `head` (see the module doc)."""
    with db.schema_transaction() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {DETECTOR_TABLE} (name TEXT PRIMARY KEY, "
                    "position BIGINT NOT NULL)")
        cur.execute(f"INSERT INTO {DETECTOR_TABLE} (name, position) VALUES ('mass', ?) "
                    "ON CONFLICT (name) DO NOTHING", (head,))


def settings_from_env() -> DuplicateSettings:
    return load_settings(os.environ.get("REXIAN_DUPLICATES_FILE") or None)


class DuplicateDesk:
    def __init__(self, engine: Engine, settings: DuplicateSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings or settings_from_env()

    @property
    def runner(self) -> ProjectionRunner:
        return self.engine.runners[RUNNER]

    def _indexed(self, ticket_no: str) -> index.IndexedOrder:
        ticket_no = require_ticket_no(ticket_no)
        self.runner.catch_up()
        with self.engine.db.transaction(immediate=False) as cur:
            found = index.indexed_order(cur, ticket_no)
        if found is None:
            raise UnknownTicket(ticket_no)
        return found

    # ----- candidate duplicates ---------------------------------------------------------
    def candidates(self, ticket_no: str) -> dict[str, Any]:
        """The open orders of the order's area within the window (before or after it) that
        read alike, best first, each with the `rexian merge` that merges the later into
        the earlier."""
        order = self._indexed(ticket_no)
        span = self.settings.window_days * DAY
        with self.engine.db.transaction(immediate=False) as cur:
            pool = [o for o in index.orders_in_area(cur, order.area, order.created_ts - span,
                                                    order.created_ts + span)
                    if o.ticket_no != order.ticket_no and o.state in OPEN_STATES]
        scored = zip(pool, similarity_scores(order.content, [o.content for o in pool]),
                     strict=True)
        kept = sorted(((o, s) for o, s in scored if s >= self.settings.threshold),
                      key=lambda pair: (-pair[1], -pair[0].created_ts))
        mergeable = order.state in OPEN_STATES
        listed = []
        for other, score in kept[:self.settings.max_candidates]:
            later, earlier = ((order, other) if (order.position > other.position)
                              else (other, order))
            listed.append({
                "ticket_no": other.ticket_no, "score": score, "state": other.state,
                "created_at": iso(datetime.fromtimestamp(other.created_ts, UTC)),
                "content": other.content,
                "same_citizen": bool(order.citizen) and order.citizen == other.citizen,
                "mass_complaint": other.alert,
                "merge": (f"rexian merge {later.ticket_no} --into {earlier.ticket_no} "
                          f"--reason {MERGE_REASON}") if mergeable else None,
                "merge_order": {"ticket_no": later.ticket_no, "into": earlier.ticket_no,
                                "reason": MERGE_REASON} if mergeable else None})
        return {"ticket_no": order.ticket_no, "area": order.area, "state": order.state,
                "window_days": self.settings.window_days,
                "threshold": self.settings.threshold, "candidates": listed}

    # ----- mass complaints --------------------------------------------------------------
    def examine(self, order: index.IndexedOrder) -> dict[str, Any] | None:
        """Raise or grow the alert this order makes (see domain/duplicates/clusters.py);
        what was done, or None."""
        rules = self.settings.mass
        with self.engine.db.transaction(immediate=False) as cur:
            pool = [o for o in index.orders_in_area(
                cur, order.area, order.created_ts - rules.window_days * DAY, order.created_ts)
                if o.position < order.position and o.state != WITHDRAWN]
            if not pool:  # alone in its area: no cluster (and no scikit-learn import, ~1 s)
                return None
            pool.reverse()  # oldest first; the order itself last
            similarity = similarity_matrix([o.content for o in pool] + [order.content])
            neighbours = [Neighbour(pool[i].ticket_no, pool[i].citizen, similarity[-1][i],
                                    pool[i].alert)
                          for i in linked(similarity, rules.threshold)]
            alerts = {n.alert for n in neighbours if n.alert}
            citizens = {ref: index.alert_citizens(cur, ref) for ref in alerts}
        decision = decide(order.ticket_no, order.citizen, neighbours, rules, citizens)
        if isinstance(decision, Raise):
            return self._raise(order, decision)
        if isinstance(decision, Join):
            return self._join(order, decision)
        return None

    def _raise(self, order: index.IndexedOrder, decision: Raise) -> dict[str, Any] | None:
        ref = alert_ref(order.ticket_no)
        service = self.engine.service
        rules = self.settings.mass
        alert = MassComplaintAlert.raise_alert(
            ref=ref, area=order.area, members=decision.members, citizens=decision.citizens,
            notify=self.notified_units(order.area),
            rules={"min_citizens": rules.min_citizens, "window_days": rules.window_days,
                   "threshold": rules.threshold},
            summary=order.content, actor=DETECTOR, at=service.now())
        try:
            service._commit(alert)
        except IntegrityError:  # another process examined the order first
            return None
        return {"alert": ref, "action": "raised", "members": len(decision.members),
                "citizens": decision.citizens}

    def _join(self, order: index.IndexedOrder, decision: Join) -> dict[str, Any] | None:
        service = self.engine.service
        for _attempt in range(5):
            alert: MassComplaintAlert = service.repository.get(alert_uuid(decision.alert))
            if not alert.grow(ticket_no=order.ticket_no, citizens=decision.citizens,
                              actor=DETECTOR, at=service.now()):
                return None
            try:
                service._commit(alert)
            except IntegrityError:
                continue  # grown meanwhile by another process: look again
            return {"alert": alert.ref, "action": "grew", "members": len(alert.members),
                    "citizens": alert.citizens}
        return None

    def notified_units(self, area: str) -> dict[str, str]:
        """Who a 群诉预警 of `area` reaches: the unit heading the area (属地: its region is
        the area and its supervisor's is not) and that unit's supervisor; the configured
        fallback unit when no unit heads the area or the head has no supervisor."""
        units = {d.name: d for d in self.engine.departments.all()}
        found: dict[str, str] = {}
        for dept in units.values():
            boss = units.get(dept.supervisor) if dept.supervisor else None
            if dept.region == area and (boss is None or boss.region != area):
                found[dept.name] = "area"
                if boss is not None:
                    found.setdefault(boss.name, "supervision")
        if "supervision" not in found.values():
            found.setdefault(self.settings.mass.fallback_unit, "supervision")
        return found

    def scan(self) -> list[dict[str, Any]]:
        """Examine every order registered since the detector's position, in log order."""
        self.runner.catch_up()
        done: list[dict[str, Any]] = []
        db = self.engine.db
        while True:
            with db.transaction(immediate=False) as cur:
                row = cur.execute(f"SELECT position FROM {DETECTOR_TABLE} WHERE name = 'mass'"
                                  ).fetchone()
                batch = index.orders_after(cur, int(row[0]) if row else 0)
            if not batch:
                return done
            for order in batch:
                outcome = self.examine(order)
                if outcome is not None:
                    done.append({"ticket_no": order.ticket_no, **outcome})
                    self.runner.catch_up()  # the next order sees the alert it may join
                with db.transaction() as cur:
                    cur.execute(f"UPDATE {DETECTOR_TABLE} SET position = ? WHERE name = 'mass' "
                                "AND position < ?", (order.position, order.position))

    def alerts(self, area: str | None = None) -> list[dict[str, Any]]:
        self.runner.catch_up()
        with self.engine.db.transaction(immediate=False) as cur:
            rows = index.alert_rows(cur, area)
        for row in rows:
            for key in ("raised_at", "updated_at"):
                row[key] = iso(datetime.fromisoformat(row[key]))
        return rows

    def history(self, ref: str, as_of: datetime | None = None) -> dict[str, Any]:
        """An alert as it was at `as_of` and every event up to then."""
        ref = require_ticket_no(ref, "alert")
        try:
            alert: MassComplaintAlert = self.engine.service.repository.get(alert_uuid(ref))
        except AggregateNotFoundError:
            raise InvalidInput("alert", f"群诉预警 {shown(ref)} 不存在",
                               f"mass-complaint alert {shown(ref)} does not exist") from None
        return aggregate_history(self.engine.service, alert.id, ref, as_of,
                                 lambda then: then.view())


def intake_advice(engine: Engine, ticket_no: str) -> dict[str, Any]:
    """What an agent sees with a new order (the CLI's intake JSON): its candidate duplicates,
    to merge in one step, and the 群诉预警 it raised or grew, if any."""
    desk = DuplicateDesk(engine)
    examined = [d for d in desk.scan() if d["ticket_no"] == ticket_no]
    return {"duplicate_candidates": desk.candidates(ticket_no)["candidates"],
            "mass_complaint": examined[0] if examined else None}

