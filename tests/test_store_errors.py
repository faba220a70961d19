"""An unusable --db is a clear refusal (exit 2, named), never a traceback; a typed path's
missing directory is not created (only the default ./var is)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.test_cli import rexian


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    done = rexian(str(tmp_path), "list")
    assert done.returncode == 2 and "是一个目录" in done.stderr and "Traceback" not in done.stderr


def test_a_missing_directory_is_not_created(tmp_path: Path) -> None:
    target = tmp_path / "typo" / "deeper" / "rexian.db"
    done = rexian(str(target), "list", "--json")
    assert done.returncode == 2 and "does not exist" in done.stderr
    assert json.loads(done.stdout)["error"]["field"] == "db"
    assert not (tmp_path / "typo").exists()


def test_the_default_store_directory_is_created(tmp_path: Path) -> None:
    done = rexian(None, "list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "var" / "rexian.db").exists()


def test_an_unreachable_postgresql_is_named(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = rexian(f"postgresql://u:p@127.0.0.1:{port}/rexian", "list")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "无法打开事件库" in done.stderr and f"127.0.0.1:{port}" in done.stderr


def test_a_bad_duty_phone_is_named_when_the_registry_is_first_used(tmp_path: Path) -> None:
    registry = tmp_path / "departments.toml"
    registry.write_text('[[department]]\nname = "区水务局"\nregion = "甬江区"\n'
                        'duty_phone = "12"\n', encoding="utf-8")
    done = rexian(None, "--db", str(tmp_path / "r.db"), "--departments", str(registry),
                  "departments")
    assert done.returncode == 2 and "区水务局" in done.stderr and "值班电话" in done.stderr
    assert "Traceback" not in done.stderr
