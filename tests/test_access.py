"""Staff identities and roles (domain/access): tokens stored as hashes, the permission
matrix on every front end, the actor taken from the identity, reveals with a reason, the
access log (sealed in the ledger, listed by `audit reads`), TLS and mutual TLS."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.bootstrap import Engine, build_engine
from adapters.grpc.client import ClientTls, RemoteEngine
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2_grpc as ticket_grpc
from adapters.grpc.server import ServerTls, serve_grpc
from domain.access.credentials import token_hash
from domain.access.permissions import matrix, parse_matrix
from domain.access.roles import STAFF_ROLES, Identity
from domain.commands import CATALOGUE
from domain.departments import DepartmentRegistry
from domain.errors import InvalidInput, PermissionDenied, Unauthenticated
from domain.values import Actor
from tests.conftest import SimClock
from tests.support.vault_bytes import store_bytes
from tests.test_grpc_support import CITY, WATER, Running, dept_token, md, running_fixture
from tools.permissions_doc import COMMAND, DOC_PATH, render

REPO = Path(__file__).resolve().parent.parent
ADMIN = Actor("admin", "root")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def engine(tmp_path: Path, clock: SimClock) -> Iterator[Engine]:
    built = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield built
    built.close()


@pytest.fixture
def running(engine: Engine) -> Iterator[Running]:
    yield from running_fixture(engine)


def head(engine: Engine) -> int:
    return engine.service.recorder.max_notification_id() or 0


def issue(engine: Engine, *roles: str, staff: str = "S1", dept: str | None = None,
          expires: dt.datetime | None = None) -> str:
    token: str = engine.access.issue(roles=list(roles), staff_id=staff, dept=dept,
                                     expires_at=expires, actor=ADMIN)["token"]
    return token


def refusals(engine: Engine) -> list[dict[str, Any]]:
    return [r for r in engine.access_entries(EPOCH) if r["action"] == "refused"]


# ----- the matrix --------------------------------------------------------------------------
def test_the_matrix_covers_every_command_and_role_and_its_doc_is_current() -> None:
    m = matrix()
    assert set(m.roles) == set(STAFF_ROLES)
    for spec in CATALOGUE:  # every command can be run by someone, its own role included
        assert m.allows(spec.role, spec.name), spec.name
    for operation in m.operations:
        assert m.roles_for(operation), f"nobody may {operation}"
    assert DOC_PATH.read_text(encoding="utf-8") == render(), f"stale: {COMMAND}"
    with pytest.raises(ValueError, match="unknown operations"):
        parse_matrix('[roles.agent]\nmay = ["fly"]\n')
    with pytest.raises(ValueError, match="unknown role"):
        parse_matrix('[roles.janitor]\nmay = []\n')


def test_a_role_acts_in_the_role_that_grants_the_command() -> None:
    m = matrix()
    lead = Identity(("agent", "dispatcher"), "W01")
    assert m.check(lead, "dispatch").actor() == Actor("dispatcher", "W01")
    assert m.check(lead, "intake").actor() == Actor("agent", "W01")
    with pytest.raises(PermissionDenied, match="may not erase"):
        m.check(lead, "erase")
    unit = Identity(("department",), "张工", WATER)
    assert unit.actor() == Actor("department", f"{WATER}/张工")


# ----- tokens ------------------------------------------------------------------------------
def test_a_token_is_shown_once_and_stored_only_as_its_hash(engine: Engine,
                                                           tmp_path: Path) -> None:
    issued = engine.access.issue(roles=["agent"], staff_id="A007", actor=ADMIN)
    token = issued["token"]
    assert token.startswith("rx1_") and len(token) == 47
    assert engine.access.authenticate(token) == Identity(("agent",), "A007")
    data = store_bytes(tmp_path / "rexian.db")
    assert token.encode() not in data and token[4:].encode() not in data
    assert token_hash(token).encode() in data  # what the store holds instead


def test_bad_tokens_are_refused_and_logged_and_nothing_else_is_recorded(
        engine: Engine, clock: SimClock) -> None:
    good = issue(engine, "agent", expires=clock() + dt.timedelta(hours=1))
    revoked = issue(engine, "agent", staff="S2")
    token_id = engine.access.authenticate(revoked) and next(
        r["token_id"] for r in _credentials(engine) if r["staff_id"] == "S2")
    engine.access.revoke(token_id, reason="离职", actor=ADMIN)
    cases = [(None, "no token given"), ("rx1_short", "malformed token"),
             ("rx1_" + "A" * 43, "unknown token"), (revoked, "token revoked")]
    for token, why in cases:
        before = head(engine)
        with pytest.raises(Unauthenticated, match=why):
            engine.access.authenticate(token)
        assert head(engine) == before + 1  # the access-log entry, nothing else
    clock.advance(hours=2)
    engine.access._cache.clear()  # another process would not have it cached either
    with pytest.raises(Unauthenticated, match="token expired"):
        engine.access.authenticate(good)
    logged = refusals(engine)
    assert [r["detail"].split(" / ")[1] for r in logged] == [
        "no token given", "malformed token", "unknown token", "token revoked",
        "token expired"]
    assert all(r["actor_id"] == "unauthenticated" for r in logged)
    with pytest.raises(InvalidInput, match="already revoked"):
        engine.access.revoke(token_id, reason="again", actor=ADMIN)


def _credentials(engine: Engine) -> list[dict[str, Any]]:
    from projections.access_log import credentials

    engine.runners["access_log"].catch_up()
    return credentials(engine.db)


def test_issue_refuses_what_makes_no_sense(engine: Engine, clock: SimClock) -> None:
    before = head(engine)
    for kwargs, field in (
            ({"roles": ["janitor"], "staff_id": "x"}, "role"),
            ({"roles": [], "staff_id": "x"}, "role"),
            ({"roles": ["department"], "staff_id": "x"}, "dept"),
            ({"roles": ["department"], "staff_id": "x", "dept": "火星局"}, "dept"),
            ({"roles": ["department", "agent"], "staff_id": "x", "dept": WATER}, "role"),
            ({"roles": ["agent"], "staff_id": "x", "dept": WATER}, "dept"),
            ({"roles": ["agent"], "staff_id": "x",
              "expires_at": clock() - dt.timedelta(seconds=1)}, "expires")):
        with pytest.raises(InvalidInput) as excinfo:
            engine.access.issue(actor=ADMIN, **kwargs)  # type: ignore[arg-type]
        assert excinfo.value.field == field
    assert head(engine) == before


def test_a_registry_with_plaintext_tokens_is_refused(tmp_path: Path) -> None:
    registry = tmp_path / "departments.toml"
    registry.write_text('[[department]]\nname = "区水务局"\nregion = "甬江区"\n'
                        'duty_phone = "0574-87000101"\ntoken = "tok-swj-9f2b"\n',
                        encoding="utf-8")
    with pytest.raises(InvalidInput, match="plaintext token"):
        DepartmentRegistry.load(registry)
    assert "token =" not in (REPO / "config" / "departments.toml").read_text(encoding="utf-8")


# ----- gRPC ----------------------------------------------------------------------------------
def _intake(t: ticket_grpc.TicketServiceStub, metadata: Any) -> str:
    return str(t.Intake(ticket_pb.IntakeRequest(
        channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
        content="路灯坏了，回电13912345678", caller_name="欧阳娜娜",
        caller_phone="13812345678"), metadata=metadata).ticket.ticket_no)


def test_grpc_refuses_what_the_role_may_not_do(running: Running) -> None:
    engine, t = running.engine, running.tickets
    agent = md(issue(engine, "agent", staff="A007"))
    no = _intake(t, agent)
    assert engine.service.history(no)["events"][0]["actor"] == {"role": "agent", "id": "A007"}
    water = md(dept_token(engine, WATER))
    for call, metadata in (
            (lambda m: t.Dispatch(ticket_pb.DispatchRequest(ticket_no=no, dept=WATER),
                                  metadata=m), agent),
            (lambda m: t.Tick(ticket_pb.TickRequest(), metadata=m), agent),
            (lambda m: t.EraseCitizen(ticket_pb.EraseCitizenRequest(
                citizen="13812345678", reason="x"), metadata=m), agent),
            # A unit uses the department API only, never the centre's.
            (lambda m: t.GetTicket(ticket_pb.GetTicketRequest(ticket_no=no), metadata=m),
             water)):
        before = head(engine)
        with pytest.raises(grpc.RpcError) as excinfo:
            call(metadata)
        assert excinfo.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
        assert head(engine) == before + 1
    assert [r["operation"] for r in refusals(engine)] == ["dispatch", "tick", "erase", "show"]
    # A department naming another unit is refused too.
    with pytest.raises(grpc.RpcError) as excinfo:
        list(running.feed.Subscribe(dept_pb.SubscribeRequest(department=CITY), metadata=water))
    assert excinfo.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as excinfo:
        t.GetTicket(ticket_pb.GetTicketRequest(ticket_no=no), metadata=md("rx1_" + "B" * 43))
    assert excinfo.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]


def test_reveal_needs_the_role_and_a_reason_and_is_logged(running: Running) -> None:
    engine, t = running.engine, running.tickets
    no = _intake(t, running.centre)
    masked = t.GetTicket(ticket_pb.GetTicketRequest(ticket_no=no), metadata=running.centre)
    assert masked.ticket.caller_phone == "138****5678" and not masked.ticket.revealed
    assert "13912345678" not in masked.ticket.content
    auditor = md(issue(engine, "auditor", staff="审计员甲"))
    agent = md(issue(engine, "agent", staff="A1"))
    for metadata, reason, code in ((auditor, "", grpc.StatusCode.INVALID_ARGUMENT),
                                   (agent, "回访核实", grpc.StatusCode.PERMISSION_DENIED)):
        with pytest.raises(grpc.RpcError) as excinfo:
            t.GetTicket(ticket_pb.GetTicketRequest(ticket_no=no, reveal=True, reason=reason),
                        metadata=metadata)
        assert excinfo.value.code() == code  # type: ignore[attr-defined]
    shown = t.GetTicket(ticket_pb.GetTicketRequest(ticket_no=no, reveal=True,
                                                   reason="投诉核查，调取来电人信息"),
                        metadata=auditor).ticket
    assert (shown.caller_name, shown.caller_phone) == ("欧阳娜娜", "13812345678")
    assert "13912345678" in shown.content and shown.revealed
    entries = engine.access_entries(EPOCH)
    assert [(r["action"], r["operation"]) for r in entries] == [
        ("refused", "reveal"), ("refused", "reveal"), ("reveal", "reveal")]
    assert entries[-1]["actor_id"] == "审计员甲" and entries[-1]["target"] == no
    assert entries[-1]["reason"] == "投诉核查，调取来电人信息"


def test_the_access_log_is_sealed_in_the_ledger(running: Running, tmp_path: Path) -> None:
    engine = running.engine
    no = _intake(running.tickets, running.centre)
    engine.reveal_order(no, Identity(("auditor",), "审计员甲"), "核查")
    assert engine.verify().ok
    engine.close()
    with sqlite3.connect(tmp_path / "rexian.db") as db:  # an auditor's trace rewritten
        rows = db.execute("SELECT rowid, state FROM stored_events WHERE topic LIKE "
                          "'%AccessEntry.Recorded'").fetchall()
        assert rows
        rowid, state = rows[-1]
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                   (state.replace("核查".encode(), "例行".encode()), rowid))
    again = build_engine(str(tmp_path / "rexian.db"))
    try:
        report = again.verify()
        assert not report.ok
    finally:
        again.close()


# ----- TLS -----------------------------------------------------------------------------------
def _cert(name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, Any] | None,
          ca: bool = False) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        import ipaddress

        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_grpc_over_tls_and_mutual_tls(engine: Engine) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Rexian test CA", ca_key, None, ca=True)
    server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    server_cert = _cert("localhost", server_key, (ca.subject, ca_key))
    client_cert = _cert(WATER, client_key, (ca.subject, ca_key))
    token = issue(engine, "agent", staff="A1")
    for mutual in (False, True):
        tls = ServerTls(_pem(server_cert), _key_pem(server_key), _pem(ca) if mutual else None)
        server, port = serve_grpc(engine, "127.0.0.1:0", tls=tls)
        try:
            address = f"127.0.0.1:{port}"
            with_cert = ClientTls(_pem(ca), _pem(client_cert), _key_pem(client_key))
            remote = RemoteEngine(address, token=token, tls=with_cert, timeout=10)
            assert remote.departments.get(WATER).name == WATER
            remote.close()
            plain = RemoteEngine(address, token=token, timeout=3)  # no TLS: no answer
            with pytest.raises(Exception, match="UNAVAILABLE"):
                plain.departments.all()
            plain.close()
            no_cert = RemoteEngine(address, token=token, tls=ClientTls(_pem(ca)), timeout=3)
            if mutual:
                with pytest.raises(Exception, match="UNAVAILABLE"):
                    no_cert.departments.all()
            else:
                assert no_cert.departments.all()
            no_cert.close()
        finally:
            server.stop(grace=0.5)


# ----- the local CLI ---------------------------------------------------------------------
def _rexian(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REXIAN_") or k == "REXIAN_KEK_FILE"}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "tools.cli", "--db", str(db), *args],
                          env=env, cwd=REPO, capture_output=True, text=True, encoding="utf-8",
                          timeout=60)


def test_the_cli_acts_as_the_os_user_in_a_role(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    made = _rexian(db, "intake", "--channel", "电话", "--category", "投诉", "--region", "甬江区",
                   "--caller-name", "张三", "--caller-phone", "13800138000", "--content",
                   "我的身份证号110101199003071234丢了", "--json")
    assert made.returncode == 0, made.stderr
    no = json.loads(made.stdout)["ticket_no"]
    refused = _rexian(db, "--role", "agent", "dispatch", no, "--dept", WATER)
    assert refused.returncode == 2 and "may not dispatch" in refused.stderr
    assert "Traceback" not in refused.stderr
    no_reason = _rexian(db, "--role", "auditor", "show", no, "--reveal", "--json")
    assert no_reason.returncode == 2 and "reason" in no_reason.stderr
    shown = _rexian(db, "--role", "auditor", "show", no, "--reveal", "--reason", "核查身份",
                    "--json")
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["caller_phone"] == "13800138000"
    assert "110101199003071234" in view["content"]
    history = json.loads(_rexian(db, "history", no, "--json").stdout)
    import getpass

    assert history["events"][0]["actor"] == {"role": "agent", "id": f"local:{getpass.getuser()}"}
    issued = _rexian(db, "token", "issue", "--role", "department", "--id", "张工", "--dept",
                     WATER, "--json")
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)["token"]
    listed = _rexian(db, "token", "list", "--json")
    assert token not in listed.stdout and "张工" in listed.stdout
    log = json.loads(_rexian(db, "audit", "reads", "--since", "2000-01-01", "--json").stdout)
    assert [(r["action"], r["operation"]) for r in log] == [
        ("refused", "dispatch"), ("refused", "reveal"), ("reveal", "reveal")]
    assert log[-1]["reason"] == "核查身份" and log[-1]["via"] == "local"
    bad = _rexian(db, "--role", "janitor", "show", no)
    assert bad.returncode == 2 and "invalid role" in bad.stderr
