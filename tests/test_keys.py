"""Keys outside the store (envelope encryption): the database file and its WAL alone
reveal no name, phone or usable key; with the key-encryption key everything decrypts;
rotation rewraps every key without touching an event; no KEK or the wrong one leaves
personal data unavailable (with a clear message) and everything else working."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.keys import FileKeyWrapper
from adapters.vault import FINGERPRINT, KEYS, LEGACY_PEPPER, META, PEPPER, rotate
from domain.errors import PersonalDataUnavailable
from domain.values import Actor
from tests.conftest import SimClock
from tests.support.vault_bytes import decryptable, store_bytes, tokens

AGENT = Actor("agent", "A1")
CALLERS = [("欧阳娜娜", "13812345678"), ("司马相如", "13987654321"), ("张三丰", "13700001111")]


def intake(engine: Engine, name: str, phone: str) -> str:
    return engine.service.intake(channel="电话", category="投诉", urgency="一般",
                                 region="甬江区东湖街道", content="夜间施工噪音",
                                 caller_name=name, caller_phone=phone, actor=AGENT)


def rows(engine: Engine, sql: str) -> list[Any]:
    with engine.db.transaction(immediate=False) as cur:
        return list(cur.execute(sql).fetchall())


@pytest.fixture
def kek(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "store.kek"


@pytest.fixture
def store(tmp_path: Path, kek: Path, clock: SimClock) -> Iterator[tuple[Engine, list[str]]]:
    kek.parent.mkdir()
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock, kek_file=str(kek))
    tickets = [intake(engine, name, phone) for name, phone in CALLERS]
    tickets.append(intake(engine, *CALLERS[0]))  # the same caller again: same key
    yield engine, tickets
    engine.close()


def secrets_of(engine: Engine) -> list[bytes]:
    """Every raw key the vault holds in memory (data keys, the pepper), in every spelling."""
    raw = [*engine.vault._keys.values()]
    assert engine.vault._pepper is not None
    spellings = [engine.vault._pepper, engine.vault._pepper.hex().encode()]
    for key in raw:
        spellings += [key, base64.urlsafe_b64decode(key)]
    return spellings


def plaintexts() -> list[bytes]:
    return [text.encode() for name, phone in CALLERS for text in (name, phone)]


def test_the_kek_file_is_created_owner_only(store: tuple[Engine, list[str]], kek: Path) -> None:
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600
    engine, _ = store
    status = engine.vault.status()
    assert status["kek_fingerprint"] == status["store_fingerprint"]
    assert status["data_keys"] == 3 and not status["locked"]


def test_the_database_and_wal_alone_reveal_no_name_phone_or_key(
        store: tuple[Engine, list[str]], tmp_path: Path) -> None:
    engine, tickets = store
    engine.vault._keys.clear()
    for ticket in tickets:  # every key unwrapped and cached, so secrets_of sees them all
        assert engine.service.show(ticket)["caller_status"] == "available"
    data = store_bytes(tmp_path / "rexian.db")
    assert Path(f"{tmp_path / 'rexian.db'}-wal").exists()
    assert len(tokens(data)) >= 4  # the attacker does see the ciphertexts
    for plain in plaintexts():
        assert plain not in data
    for secret in secrets_of(engine):
        assert secret not in data
    assert decryptable(data) == []  # no key-shaped string in the bytes opens any token


def test_with_the_kek_everything_decrypts(store: tuple[Engine, list[str]], tmp_path: Path,
                                          kek: Path, clock: SimClock) -> None:
    engine, tickets = store
    engine.close()
    again = build_engine(str(tmp_path / "rexian.db"), clock=clock, kek_file=str(kek))
    try:
        for ticket, (name, phone) in zip(tickets, [*CALLERS, CALLERS[0]], strict=True):
            order = again.service.load(ticket)
            opened = again.vault.open(order.citizen_id, order.personal)
            assert opened is not None and (opened.name, opened.phone) == (name, phone)
            view = again.service.show(ticket)
            assert view["caller_phone"] == f"{phone[:3]}****{phone[-4:]}"
        data = store_bytes(tmp_path / "rexian.db")
        opened_texts = b"".join(decryptable(data, FileKeyWrapper.load(kek)))
        for plain in plaintexts():  # the bytes plus the KEK: the attack the KEK must stop
            assert plain in opened_texts
    finally:
        again.close()


def test_without_the_kek_the_store_opens_but_personal_data_is_unavailable(
        store: tuple[Engine, list[str]], tmp_path: Path, clock: SimClock) -> None:
    engine, tickets = store
    engine.close()
    missing = tmp_path / "nowhere.kek"
    locked = build_engine(str(tmp_path / "rexian.db"), clock=clock, kek_file=str(missing))
    try:
        assert not missing.exists()  # a store that has a KEK never gets a new one made up
        view = locked.service.show(tickets[0])
        assert view["caller_status"] == "unavailable"
        assert view["caller_name"] is None and view["caller_phone"] is None
        assert "does not exist" in view["caller_note"] and "不可用" in view["caller_note"]
        assert view["content"] == "夜间施工噪音"  # everything else is there
        assert len(locked.list()) == 4
        assert locked.verify().ok
        with pytest.raises(PersonalDataUnavailable, match="personal data unavailable"):
            intake(locked, "新来电", "13600000000")
        locked.service.dispatch(tickets[0], dept="区城管局", assist=[], actor=AGENT)
    finally:
        locked.close()


def test_a_wrong_kek_leaves_personal_data_unavailable_with_a_clear_message(
        store: tuple[Engine, list[str]], tmp_path: Path, kek: Path, clock: SimClock) -> None:
    engine, tickets = store
    engine.close()
    other = tmp_path / "other.kek"
    FileKeyWrapper.create(other)
    before = other.read_bytes(), kek.read_bytes()
    wrong = build_engine(str(tmp_path / "rexian.db"), clock=clock, kek_file=str(other))
    try:
        view = wrong.service.show(tickets[1])
        assert view["caller_status"] == "unavailable"
        assert "does not match the store" in view["caller_note"]
        assert "不匹配" in view["caller_note"]
        assert wrong.vault.status()["locked"]
    finally:
        wrong.close()
    assert (other.read_bytes(), kek.read_bytes()) == before  # neither file was touched
    right = build_engine(str(tmp_path / "rexian.db"), clock=clock, kek_file=str(kek))
    try:
        assert right.service.show(tickets[1])["caller_status"] == "available"
    finally:
        right.close()


def test_rotation_rewraps_every_key_and_keeps_everything_decryptable(
        store: tuple[Engine, list[str]], tmp_path: Path, kek: Path, clock: SimClock) -> None:
    engine, tickets = store
    wrapped_before = dict(rows(engine, f"SELECT citizen_id, key FROM {KEYS}"))
    meta_before = dict(rows(engine, f"SELECT name, value FROM {META}"))
    events_before = rows(engine, "SELECT * FROM stored_events")
    head_before = engine.verify().as_dict()["ledger_head"]
    old_kek = FileKeyWrapper.load(kek)
    result = rotate(engine.vault)
    assert result["rewrapped_keys"] == 3
    backup = Path(result["old_kek_backup"])
    assert backup.read_bytes() == old_kek.path.read_bytes() or backup.exists()
    assert FileKeyWrapper.load(backup).kek == old_kek.kek
    assert FileKeyWrapper.load(kek).kek != old_kek.kek
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600
    wrapped_after = dict(rows(engine, f"SELECT citizen_id, key FROM {KEYS}"))
    assert wrapped_after.keys() == wrapped_before.keys()
    assert all(wrapped_after[c] != wrapped_before[c] for c in wrapped_before)
    meta_after = dict(rows(engine, f"SELECT name, value FROM {META}"))
    assert meta_after[PEPPER] != meta_before[PEPPER]
    assert meta_after[FINGERPRINT] == result["fingerprint"] != meta_before[FINGERPRINT]
    assert rows(engine, "SELECT * FROM stored_events") == events_before  # no event touched
    engine.close()
    data = store_bytes(tmp_path / "rexian.db")
    for old in [*wrapped_before.values(), meta_before[PEPPER]]:
        assert old.encode() not in data  # the old wrapped bytes are gone from file and WAL
    assert decryptable(data, old_kek) == []  # the old KEK opens nothing any more
    again = build_engine(str(tmp_path / "rexian.db"), clock=clock, kek_file=str(kek))
    try:
        assert again.verify().as_dict()["ledger_head"] == head_before
        for ticket in tickets:
            assert again.service.show(ticket)["caller_status"] == "available"
        assert intake(again, *CALLERS[1]) > tickets[-1]  # same caller found by the pepper
        assert len(rows(again, f"SELECT citizen_id FROM {KEYS}")) == 3
    finally:
        again.close()


def test_keys_stored_in_clear_are_wrapped_on_first_open(
        store: tuple[Engine, list[str]], tmp_path: Path, kek: Path, clock: SimClock) -> None:
    engine, tickets = store
    # Make the store what it was before envelope encryption: keys and pepper in clear.
    vault = engine.vault
    assert vault._pepper is not None
    clear = {c: vault._key(c) for c, _ in rows(engine, f"SELECT citizen_id, key FROM {KEYS}")}
    with engine.db.transaction() as cur:
        for citizen_id, key in clear.items():
            assert key is not None
            cur.execute(f"UPDATE {KEYS} SET key = ? WHERE citizen_id = ?",
                        (key.decode(), citizen_id))
        cur.execute(f"DELETE FROM {META}")
        cur.execute(f"INSERT INTO {META} (name, value) VALUES (?, ?)",
                    (LEGACY_PEPPER, vault._pepper.hex()))
    engine.close()
    kek.unlink()
    legacy = store_bytes(tmp_path / "rexian.db")
    assert len(decryptable(legacy)) == 4  # the attack works on the old layout
    migrated = build_engine(str(tmp_path / "rexian.db"), clock=clock, kek_file=str(kek))
    try:
        assert kek.exists() and stat.S_IMODE(kek.stat().st_mode) == 0o600
        stored = dict(rows(migrated, f"SELECT citizen_id, key FROM {KEYS}"))
        assert all(value.startswith("kek1:") for value in stored.values())
        assert dict(rows(migrated, f"SELECT name, value FROM {META}")).keys() == {
            PEPPER, FINGERPRINT}
        for ticket in tickets:
            assert migrated.service.show(ticket)["caller_status"] == "available"
        assert intake(migrated, *CALLERS[2]) > tickets[-1]
        assert len(stored) == len(rows(migrated, f"SELECT citizen_id FROM {KEYS}")) == 3
        data = store_bytes(tmp_path / "rexian.db")
        assert decryptable(data) == []
        for key in clear.values():
            assert key is not None and key not in data
    finally:
        migrated.close()


def test_an_interrupted_rotation_is_finished_on_the_next_open(
        store: tuple[Engine, list[str]], tmp_path: Path, kek: Path, clock: SimClock) -> None:
    engine, tickets = store
    new = FileKeyWrapper.create(kek.with_name(kek.name + ".new"))
    engine.vault.rewrap(new)  # committed; the process "dies" before the files are swapped
    engine.close()
    again = build_engine(str(tmp_path / "rexian.db"), clock=clock, kek_file=str(kek))
    try:
        assert FileKeyWrapper.load(kek).kek == new.kek
        assert not new.path.exists()
        assert [p.name for p in kek.parent.iterdir() if p.name.endswith(".old")]
        assert again.service.show(tickets[0])["caller_status"] == "available"
    finally:
        again.close()


def test_the_cli_creates_the_kek_and_says_where(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("REXIAN_")}
    env.update(PYTHONPATH=str(repo), REXIAN_SIMULATION="1")
    args = [sys.executable, "-m", "tools.cli", "--db", "var/rexian.db"]
    done = subprocess.run([*args, "keys", "status", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "created the key-encryption key var/rexian.kek" in done.stderr
    assert stat.S_IMODE((tmp_path / "var" / "rexian.kek").stat().st_mode) == 0o600
    again = subprocess.run([*args, "keys", "status"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "created" not in again.stderr
    assert "var/rexian.kek" in again.stdout
    rotated = subprocess.run([*args, "keys", "rotate", "--json"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert rotated.returncode == 0, rotated.stderr
    assert '"rewrapped_keys": 0' in rotated.stdout
    taken = subprocess.run([*args, "--now", "2025-09-30T09:00", "intake", "--channel", "电话",
                            "--category", "投诉", "--region", "甬江区", "--caller-name", "欧阳娜娜",
                            "--caller-phone", "13812345678", "--content", "噪音", "--json"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert taken.returncode == 0, taken.stderr
    shown = subprocess.run([*args, "show", "202509300001"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "138****5678" in shown.stdout
    moved = subprocess.run([*args, "--kek", "elsewhere.kek", "show", "202509300001"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert moved.returncode == 0, moved.stderr
    assert "不可用" in moved.stdout and "5678" not in moved.stdout
    assert "Traceback" not in moved.stderr and not (tmp_path / "elsewhere.kek").exists()
    refused = subprocess.run([*args, "--kek", "elsewhere.kek", "--now", "2025-09-30T09:00",
                              "intake", "--channel", "电话", "--category", "投诉", "--region",
                              "甬江区", "--caller-name", "张三", "--caller-phone", "13900000000",
                              "--content", "噪音"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "personal data unavailable" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_callback_robot_does_not_start_without_the_kek(
        store: tuple[Engine, list[str]], tmp_path: Path) -> None:
    """A locked vault opens no phone number: dialling would record 无法联系 for everyone."""
    import subprocess
    import sys

    engine, _ = store
    engine.close()
    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("REXIAN_")}
    env.update(PYTHONPATH=str(repo))
    done = subprocess.run(
        [sys.executable, "-m", "tools.cli", "--db", str(tmp_path / "rexian.db"), "--kek",
         str(tmp_path / "missing.kek"), "serve", "--grpc", "127.0.0.1:0", "--gateway",
         "http://127.0.0.1:9"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "key-encryption key is unavailable" in done.stderr and "Traceback" not in done.stderr
