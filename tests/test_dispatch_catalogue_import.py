"""The dispatch catalogue as recorded data (issue 14 item 1): each import a new audited
version, earlier versions readable as they were, the same items again record nothing, a
bad file or bad rows refused whole; `rexian catalogue import|list` and the permission
matrix."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from adapters.bootstrap import Engine, build_engine
from adapters.dispatch import desk
from domain.dispatch.catalogue import CatalogueInvalid
from domain.errors import InvalidInput
from domain.values import Actor
from tests.test_cli import ok, refused, rexian

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "dispatch_catalogue.csv"
ADMIN = Actor("admin", "ops-1")
NOW = "2026-03-02T10:00:00+08:00"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = build_engine(str(tmp_path / "r.db"))
    yield made
    made.close()


def sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_versions_are_recorded_with_who_and_when_and_read_back(engine: Engine,
                                                               tmp_path: Path) -> None:
    first = desk(engine).import_catalogue(SAMPLE, actor=ADMIN)
    assert first["action"] == "imported" and first["version"] == 1 and first["items"] == 72
    assert first["imported_by"] == "admin:ops-1" and first["source"] == "dispatch_catalogue.csv"
    # The same items in another order and format: nothing new is recorded.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    rows = sample_rows()
    sheet.append(["事项编码", "类别", "事项", "区域", "主办单位", "协办单位", "关键词", "依据"])
    for row in reversed(rows):
        sheet.append(list(row.values()))
    book.save(tmp_path / "same.xlsx")
    again = desk(engine).import_catalogue(tmp_path / "same.xlsx", actor=ADMIN)
    assert again["action"] == "unchanged" and again["version"] == 1
    # A changed lead unit is version 2; version 1 stays readable as it was.
    rows[0]["lead"] = "区生态环境分局"
    rows[0]["assisting"] = "区城管局"
    revised = desk(engine).import_catalogue(write_csv(tmp_path / "v2.csv", rows),
                                            actor=Actor("supervisor", "sup-7"))
    assert revised["action"] == "revised" and revised["version"] == 2
    assert desk(engine).list_catalogue()["rows"][0]["lead"] == "区生态环境分局"
    old = desk(engine).list_catalogue(1)
    assert old["version"] == 1 and old["rows"][0]["lead"] == "区城管局"
    assert old["imported_by"] == "admin:ops-1"
    with pytest.raises(InvalidInput, match="no version 3"):
        desk(engine).list_catalogue(3)
    report = engine.verify()
    assert report.ok, report.problems


def test_bad_rows_and_bad_files_record_nothing(engine: Engine, tmp_path: Path) -> None:
    rows = sample_rows()
    rows[4]["lead"] = "区火星局"
    rows[9]["keywords"] = ""
    rows[20]["item"] = "含\x07控制字符"
    with pytest.raises(CatalogueInvalid) as caught:
        desk(engine).import_catalogue(write_csv(tmp_path / "bad.csv", rows), actor=ADMIN)
    assert [p.row for p in caught.value.problems] == [5, 10, 21]
    assert "区火星局" in caught.value.zh and "keywords" in caught.value.en
    hostile = {
        "latin1.csv": "code,category\né,ü".encode("latin-1"),
        "nul.csv": b"code,category,item\x00\n",
        "fake.xlsx": b"PK\x03\x04 not really a zip",
        "text.xlsx": b"code,category\n",
        "cols.csv": b"code,category,item\nA,B,C\n",
        "empty.csv": b"",
        "notes.txt": b"hello",
    }
    for name, data in hostile.items():
        with pytest.raises(InvalidInput) as refusal:
            desk(engine).import_catalogue_bytes(name, data, actor=ADMIN)
        assert "派单目录文件" in refusal.value.zh and "catalogue file" in refusal.value.en, name
    with pytest.raises(InvalidInput, match="no dispatch catalogue"):
        desk(engine).list_catalogue()


def test_catalogue_from_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    done = ok(db, NOW, "catalogue", "import", str(SAMPLE))
    assert done["version"] == 1 and done["imported_by"].startswith("supervisor:local:")
    listed = ok(db, NOW, "catalogue", "list")
    assert len(listed["rows"]) == 72 and listed["rows"][0]["code"] == "YJ001"
    rows = sample_rows()
    rows[2]["lead"] = "区月球办"
    rows[3]["assisting"] = rows[3]["lead"]
    message = refused(db, NOW, "catalogue", "import", str(write_csv(tmp_path / "b.csv", rows)))
    assert "第 3 行" in message and "row 4" in message and "Traceback" not in message
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"\x00\xff" * 50)
    assert "XLSX" in refused(db, NOW, "catalogue", "import", str(bad))
    assert "agent" in refused(db, NOW, "--role", "agent", "catalogue", "import", str(SAMPLE))
    assert "version 9" in refused(db, NOW, "catalogue", "list", "--version", "9")
    assert ok(db, NOW, "catalogue", "list")["version"] == 1
    text = rexian(db, "catalogue", "list", now=NOW)
    assert text.returncode == 0 and "YJ055" in text.stdout
    assert json.loads(rexian(db, "catalogue", "list", "--json", "--version", "1",
                             now=NOW).stdout)["items"] == 72
