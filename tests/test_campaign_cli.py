"""`rexian campaign ...` as the real console script: create, import (all-or-nothing, or
--skip-invalid), start, pause, resume, status, export, cancel, history; bad input exits 2
with a bilingual message and never a traceback."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from openpyxl import load_workbook

from tests.test_cli import ok, refused, rexian

NOW = "2025-09-30T10:00:00+08:00"


def test_campaign_from_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    created = ok(db, NOW, "campaign", "create", "--kind", "notification", "--name", "养老金认证",
                 "--message", "{姓名}您好，请于月底前完成资格认证", "--window", "09:00-12:00",
                 "--window", "14:00-17:30", "--lines", "5")
    ref = created["campaign_id"]
    assert ref.startswith("CP20250930")
    contacts = tmp_path / "c.csv"
    contacts.write_text("姓名,电话,截止日\n张三,13800138000,10月31日\n李四,不是号码,10月31日\n"
                        "王五,0574-88888888,10月31日\n", encoding="utf-8")
    done = rexian(db, "campaign", "import", ref, str(contacts), "--json", now=NOW)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    body = json.loads(done.stdout)
    assert body["imported"] == 0 and [r["row"] for r in body["rejected"]] == [3]
    assert "无效" in body["rejected"][0]["reason"] and "invalid" in body["rejected"][0]["reason"]
    assert "第 3 行" in done.stderr
    assert ok(db, NOW, "campaign", "status", ref)["contacts"] == 0
    imported = ok(db, NOW, "campaign", "import", ref, str(contacts), "--skip-invalid")
    assert imported == {"campaign_id": ref, "imported": 2, "rejected": imported["rejected"]}
    assert ok(db, NOW, "campaign", "start", ref)["state"] == "进行中"
    assert ok(db, NOW, "campaign", "pause", ref, "--reason", "口径调整")["state"] == "已暂停"
    assert ok(db, NOW, "campaign", "resume", ref)["state"] == "进行中"
    status = ok(db, NOW, "campaign", "status", ref)
    for key in ("state", "contacts", "dialled", "connected", "completed", "pending_retries",
                "flags", "answers"):
        assert key in status
    assert status["contacts"] == 2
    history = ok(db, NOW, "history", ref)
    assert [e["type"] for e in history["events"]] == [
        "Created", "ContactsImported", "Scheduled", "Began", "Paused", "Resumed"]
    contact = ok(db, NOW, "history", f"{ref}-000002")
    assert contact["state"]["phone"] == "0574****8888" and contact["state"]["name"] == "王*"
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"out.{suffix}"
        assert ok(db, NOW, "campaign", "export", ref, str(out))["exported"] == 2
        rows = (list(csv.reader(out.open(encoding="utf-8-sig"))) if suffix == "csv" else
                [list(r) for r in load_workbook(out).active.iter_rows(values_only=True)])
        assert rows[0][:4] == ["序号", "对象编号", "姓名", "电话"]
        assert rows[1][2:4] == ["张*", "138****8000"] and "13800138000" not in repr(rows)
    text = rexian(db, "campaign", "status", ref, now=NOW)
    assert text.returncode == 0 and "进行中" in text.stdout
    assert ok(db, NOW, "campaign", "cancel", ref, "--reason", "活动结束")["state"] == "已取消"
    assert "已取消" in refused(db, NOW, "campaign", "resume", ref)


def test_bad_campaign_input_exits_2(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    assert "kind" in refused(db, NOW, "campaign", "create", "--kind", "spam", "--name", "x")
    refused(db, NOW, "campaign", "create", "--kind", "broadcast", "--name", "x",
            "--message", "m", "--window", "8-9")
    refused(db, NOW, "campaign", "status", "CP20250930AAAAAA")
    ref = ok(db, NOW, "campaign", "create", "--kind", "broadcast", "--name", "补贴",
             "--message", "新补贴")["campaign_id"]
    broken = tmp_path / "c.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert "XLSX" in refused(db, NOW, "campaign", "import", ref, str(broken))
    gbk = tmp_path / "g.csv"
    gbk.write_bytes("电话\n13800138000\n张三\n".encode("gbk"))
    assert "UTF-8" in refused(db, NOW, "campaign", "import", ref, str(gbk))
    bad_toml = tmp_path / "s.toml"
    bad_toml.write_text("[question\n", encoding="utf-8")
    assert "line 1" in refused(db, NOW, "campaign", "create", "--kind", "survey", "--name", "调研",
                               "--script", str(bad_toml))
    assert "手机号" in refused(db, NOW, "campaign", "block", "--phone", "12", "--reason", "x")
    assert ok(db, NOW, "campaign", "block", "--phone", "13800138000",
              "--reason", "本人要求")["phone"] == "138****8000"
