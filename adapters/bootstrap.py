"""The composition root: one place that wires the domain to its adapters."""

from __future__ import annotations

import builtins
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from adapters.duplicates import settings_from_env, start_detector
from adapters.reports import build_report
from adapters.sqldb import DEFAULT_SQLITE, SqlDatabase, StoreConfig, parse_db_url
from adapters.ticket_numbers import SqlTicketNumbers
from adapters.vault import SqlVault, open_vault
from domain.access.access_log import TARGET_CITIZEN, TARGET_ORDER
from domain.access.control import AccessControl
from domain.access.roles import Identity
from domain.departments import DepartmentRegistry
from domain.erasure import erase_citizen, erase_citizen_id
from domain.errors import InvalidInput, UnknownCitizen, shown
from domain.policies.calendar import WorkingCalendar
from domain.policies.deadlines import DeadlinePolicy, load_policy
from domain.policies.retention import RETENTION_ACTOR, RetentionPolicy, load_retention
from domain.service import Deadlines, WorkOrderService, iso, system_clock
from domain.values import Actor
from projections.access_log import AccessLogIndex, access_entries
from projections.callback_queue import CallbackQueue
from projections.campaign_progress import CampaignProgress
from projections.citizen_orders import CitizenOrderIndex, CitizenOrderLookup
from projections.clock_basis import ClockBasisIndex
from projections.deadline_index import DeadlineIndex
from projections.dispatch_history import DispatchHistory
from projections.duplicates import DuplicateIndex
from projections.kpi_facts import KpiFacts
from projections.retention import RetentionIndex, due_citizens
from projections.runner import ProjectionRunner
from projections.tickets import TicketList, list_tickets

if TYPE_CHECKING:  # the verifier loads on first use (start-up time of every command)
    from adapters.audit_verify import VerifyReport


def load_deadlines(policy_file: str | None = None) -> Deadlines:
    """The deadline policy: `policy_file`, $REXIAN_POLICY, or config/policy.toml (validated),
    on a calendar of its own (each engine installs its store's imported arrangements)."""
    path = policy_file or os.environ.get("REXIAN_POLICY")
    policy = load_policy(path) if path else DeadlinePolicy.default()
    own: Deadlines = replace(policy, calendar=WorkingCalendar.standard())
    return own


@dataclass
class Engine:
    """Everything a front end (CLI, gRPC, drills) needs, built from a DB URL."""

    config: StoreConfig
    db: SqlDatabase
    service: WorkOrderService
    vault: SqlVault
    departments: DepartmentRegistry
    access: AccessControl
    runners: dict[str, ProjectionRunner] = field(default_factory=dict)
    retention: RetentionPolicy = RetentionPolicy(0)

    def catch_up(self) -> None:
        for runner in self.runners.values():
            runner.catch_up()

    def list(self, **filters: Any) -> list[dict[str, Any]]:
        self.runners["tickets"].catch_up()
        with self.db.transaction(immediate=False) as cur:
            rows = list_tickets(cur, departments=self.departments, **filters)
        for row in rows:  # instants in Beijing time, as `show` prints them
            for key in ("created_at", "updated_at"):
                row[key] = iso(datetime.fromisoformat(row[key]))
        return rows

    def verify(self, ticket_no: str | None = None,
               anchors: Sequence[tuple[int, str]] = (),
               on_progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        # Read-only: no projection catch-up first (it would crash on the very undecodable
        # event verify must report, and feed tampered events into the read models).
        from adapters.audit_verify import verify

        return verify(self.service, self.db, ticket_no, anchors, on_progress)

    def erase_citizen(self, citizen: str, *, reason: str, actor: Actor) -> dict[str, Any]:
        """删除权 (domain/erasure.py): shred the citizen's key, PersonalDataErased on each
        of their orders; the read models then drop what they derived from them."""
        runner = self.runners["citizen_orders"]
        try:
            receipt = erase_citizen(self.service, CitizenOrderLookup(runner, self.db),
                                    citizen=citizen, reason=reason, actor=actor)
        except UnknownCitizen as error:
            # Nothing is erased, but who asked to erase whom is the access log's business.
            self.access.failed(actor, "erase", error, target_kind=TARGET_CITIZEN,
                               target=error.masked_phone)
            raise
        self.catch_up()
        return receipt

    def erase_expired(self, limit: int = 1000) -> int:
        """The retention policy (config/retention.toml): erase every citizen whose orders
        have all been closed for longer than its period; returns how many were erased."""
        cutoff = self.retention.cutoff(self.service.now())
        if cutoff is None or self.vault.locked:
            return 0  # off; or no KEK (nothing can be shredded): the next tick with it will
        runner = self.runners["retention"]
        runner.catch_up()
        with self.db.transaction(immediate=False) as cur:
            due = due_citizens(cur, cutoff.timestamp(), limit)
        lookup = CitizenOrderLookup(self.runners["citizen_orders"], self.db)
        erased = sum(1 for citizen_id in due if erase_citizen_id(
            self.service, lookup, citizen_id, reason=self.retention.reason,
            actor=RETENTION_ACTOR, closed_before=cutoff) is not None)
        if erased:
            self.catch_up()
        return erased

    def reveal_order(self, ticket_no: str, identity: Identity | None,
                     reason: str | None) -> dict[str, Any]:
        """The order with personal data unmasked, for a role that may reveal and says why
        (logged before anything is shown)."""
        order = self.service.load(ticket_no)  # an unknown order is refused before logging
        assert identity is not None, "authorised by the front end"
        self.access.reveal(identity, reason=reason, target_kind=TARGET_ORDER,
                           target=ticket_no)
        return self.service.view(order, reveal=True)

    def read_history(self, ticket_no: str, as_of: datetime | None,
                     identity: Identity | None, reason: str = "") -> dict[str, Any]:
        """`history`, checked and (for auditors) recorded in the access log."""
        result = self.service.history(ticket_no, as_of)  # unknown orders refused first
        assert identity is not None, "authorised by the front end"
        self.access.read(identity, as_of=as_of, target_kind=TARGET_ORDER, target=ticket_no,
                         reason=reason)
        return result

    def report(self, date_from: date, date_to: date, by: str | None, *,
               identity: Identity | None = None) -> dict[str, Any]:
        """The KPI report (adapters/reports.py); a department identity sees its own unit."""
        return build_report(self, date_from, date_to, by, identity=identity)

    def access_entries(self, since: datetime) -> builtins.list[dict[str, Any]]:
        """The access log from `since` (instants in Beijing time, as everywhere)."""
        self.runners["access_log"].catch_up()
        rows = access_entries(self.db, since)
        for row in rows:
            row["at"] = iso(datetime.fromisoformat(row["at"]))
        return rows

    def close(self) -> None:
        self.service.close()
        if isinstance(self.service.numbers, SqlTicketNumbers):
            self.service.numbers.close()
        self.db.close()


def build_engine(
    db_url: str | None = None,
    *,
    clock: Callable[[], datetime] = system_clock,
    departments_file: str | None = None,
    deadlines: Deadlines | None | str = "default",
    policy_file: str | None = None,
    kek_file: str | None = None,
    retention_file: str | None = None,
) -> Engine:
    """Build the engine on `db_url` (None: REXIAN_DB or ./var/rexian.db); personal data
    under the key-encryption key `kek_file` (None: $REXIAN_KEK_FILE or ./var/rexian.kek)."""
    config = parse_db_url(db_url)
    _check_sqlite_path(config)
    db = SqlDatabase(config)
    registry = DepartmentRegistry.load(departments_file)
    policy = load_deadlines(policy_file) if deadlines == "default" else deadlines
    assert not isinstance(policy, str)
    retention = load_retention(retention_file or os.environ.get("REXIAN_RETENTION_FILE"))
    settings_from_env()  # a bad config/duplicates.toml is refused before anything records
    try:
        engine = _open(config, db, registry, policy, clock, kek_file)
        engine.retention = retention
        return engine
    except Exception as error:
        if not _is_store_failure(error):
            raise
        db.close()
        raise InvalidInput(
            "db", f"无法打开事件库 {shown(config.display, 80)}：{shown(error, 200)}",
            f"cannot open the event store {shown(config.display, 80)}: {shown(error, 200)}",
        ) from error


def _check_sqlite_path(config: StoreConfig) -> None:
    """Only the default ./var is created on first use; a path someone typed must exist (a
    typo must not scatter new stores), and must not be a directory."""
    path = config.sqlite_path
    if config.kind != "sqlite" or path is None:
        return
    if path.is_dir():
        raise InvalidInput("db", f"事件库路径是一个目录：{shown(str(path), 80)}",
                           f"the event store path is a directory: {shown(str(path), 80)}")
    if path == DEFAULT_SQLITE:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise InvalidInput("db", f"事件库所在目录不存在：{shown(str(path.parent), 80)}",
                           f"the event store's directory does not exist: "
                           f"{shown(str(path.parent), 80)}")


def _is_store_failure(error: Exception) -> bool:
    # psycopg is imported only for PostgreSQL stores: recognise its errors by module.
    return isinstance(error, sqlite3.Error | OSError) or \
        type(error).__module__.startswith("psycopg")


def _open(config: StoreConfig, db: SqlDatabase, registry: DepartmentRegistry,
          policy: Deadlines | None, clock: Callable[[], datetime],
          kek_file: str | None = None) -> Engine:
    # Every constructor below creates its tables if missing: one process at a time.
    with db.schema_lock():
        vault = open_vault(db, kek_file)
        service = WorkOrderService(
            config.eventsourcing_env(),
            numbers=SqlTicketNumbers(db),
            vault=vault,
            departments=registry,
            clock=clock,
            deadlines=policy,
        )
        engine = Engine(config, db, service, vault, registry, AccessControl(service))
        engine.runners = {
            "tickets": ProjectionRunner(service, db, TicketList()),
            "deadline_index": ProjectionRunner(service, db, DeadlineIndex()),
            "clock_basis": ProjectionRunner(service, db, ClockBasisIndex()),
            "callback_queue": ProjectionRunner(service, db, CallbackQueue.for_policy(policy)),
            "citizen_orders": ProjectionRunner(service, db, CitizenOrderIndex()),
            "retention": ProjectionRunner(service, db, RetentionIndex()),
            "campaign_progress": ProjectionRunner(service, db, CampaignProgress()),
            "access_log": ProjectionRunner(service, db, AccessLogIndex()),
            "kpi_facts": ProjectionRunner(service, db, KpiFacts()),
            "duplicates": ProjectionRunner(service, db, DuplicateIndex()),
            "dispatch_history": ProjectionRunner(service, db, DispatchHistory()),
        }
        start_detector(db, service.recorder.max_notification_id() or 0)
    return engine
