"""Contact files: CSV and XLSX, every rule of the import, malformed files refused with a
clear bilingual error, nothing imported unless every row is valid (or --skip-invalid)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from adapters.bootstrap import Engine
from adapters.campaign_files import RejectedRows
from adapters.campaigns import desk
from domain.errors import InvalidInput
from domain.values import Actor

CENTRE = Actor("dispatcher", "centre")


def new_campaign(engine: Engine) -> str:
    ref: str = desk(engine).execute("create_campaign", actor=CENTRE, kind="notification",
                                    name="社保缴费到账通知", message="{姓名}您好")["campaign_id"]
    return ref


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def import_file(engine: Engine, ref: str, path: Path, skip: bool = False) -> dict:
    return desk(engine).execute("import_contacts", ref, actor=CENTRE, file=path,
                                skip_invalid=skip)


def keys(engine: Engine) -> int:
    with engine.db.transaction(immediate=False) as cur:
        return int(cur.execute("SELECT COUNT(*) FROM rexian_citizen_keys").fetchone()[0])


BAD = ("姓名,电话,地址\n"
       "张三,13800138000,东湖街道1号\n"       # row 2 valid
       "李四,12345,东湖街道2号\n"             # row 3 invalid phone
       "王五,138-0013-8000,东湖街道3号\n"     # row 4 duplicate of row 2
       "赵六,,东湖街道4号\n"                   # row 5 empty phone
       "钱七,0574-88888888,东湖街道5号\n"     # row 6 valid landline
       "孙八,13900139000,东湖街道6号\n"       # row 7 on the do-not-call list
       "周\x07九,13700137000,东湖街道7号\n")  # row 8 control character in the name


def test_any_invalid_row_imports_nothing_and_names_every_row(sqlite_engine: Engine,
                                                             tmp_path: Path) -> None:
    ref = new_campaign(sqlite_engine)
    campaigns = desk(sqlite_engine)
    campaigns.execute("block_number", actor=CENTRE, phone="139 0013 9000", reason="本人要求")
    before = keys(sqlite_engine)
    with pytest.raises(RejectedRows) as refused:
        import_file(sqlite_engine, ref, write_csv(tmp_path / "c.csv", BAD))
    rejected = {r.row: r.reason for r in refused.value.checked.rejected}
    assert sorted(rejected) == [3, 4, 5, 7, 8]
    assert "第 2 行重复" in rejected[4] and "row 2" in rejected[4]
    assert "免打扰" in rejected[7] and "do-not-call" in rejected[7]
    assert "无效" in rejected[3] and "invalid phone" in rejected[3]
    for row in (3, 4, 5, 7, 8):
        assert f"第 {row} 行" in refused.value.zh and f"row {row}" in refused.value.en
    assert campaigns.service.campaign(ref).contacts == 0
    assert keys(sqlite_engine) == before  # no citizen key was stored either
    assert campaigns.campaign_status(ref)["contacts"] == 0


def test_skip_invalid_imports_the_valid_rows(sqlite_engine: Engine, tmp_path: Path) -> None:
    ref = new_campaign(sqlite_engine)
    result = import_file(sqlite_engine, ref, write_csv(tmp_path / "c.csv", BAD), skip=True)
    assert result["imported"] == 3  # rows 2, 6 and 7 (nothing blocked in this store)
    assert [r["row"] for r in result["rejected"]] == [3, 4, 5, 8]
    service = desk(sqlite_engine).service
    landline = service.contact(f"{ref}-000002")
    data = sqlite_engine.vault.open(landline.citizen_id, landline.personal)
    assert data is not None and data.phone == "057488888888" and data.name == "钱七"
    from domain.campaign.service import opened_variables

    assert opened_variables(data) == {"地址": "东湖街道5号"}
    assert service.contact_view(landline)["phone"] == "0574****8888"
    campaign = service.campaign(ref)
    assert campaign.contacts == 3 and campaign.imports[0]["rejected"] == 4
    # A second import continues the numbering.
    again = import_file(sqlite_engine, ref,
                        write_csv(tmp_path / "d.csv", "phone\n13600136000\n"))
    assert again["imported"] == 1 and service.campaign(ref).contacts == 4
    assert service.contact(f"{ref}-000004").import_no == 2


def test_xlsx_with_numeric_phones_and_blank_rows(sqlite_engine: Engine, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["电话", "姓名", "到期日"])
    sheet.append([13800138000, "张三", "2026-12-31"])
    sheet.append([None, None, None])
    sheet.append(["0574-88888888", "李四", None])
    path = tmp_path / "c.xlsx"
    book.save(path)
    ref = new_campaign(sqlite_engine)
    assert import_file(sqlite_engine, ref, path) == {"campaign_id": ref, "imported": 2,
                                                     "rejected": []}


def test_a_moderate_file_imports_in_batches_with_progress(sqlite_engine: Engine,
                                                          tmp_path: Path) -> None:
    rows = "\n".join(f"市民{i},139{i:08d},{i}" for i in range(1, 1201))
    path = write_csv(tmp_path / "c.csv", "姓名,电话,序号\n" + rows + "\n")
    ref = new_campaign(sqlite_engine)
    seen: list[tuple[int, int]] = []
    result = desk(sqlite_engine).execute("import_contacts", ref, actor=CENTRE, file=path,
                                         on_progress=lambda done, total: seen.append((done, total)))
    assert result["imported"] == 1200
    assert seen[-1] == (1200, 1200) and (500, 1200) in seen
    assert desk(sqlite_engine).campaign_status(ref)["waiting"] == 1200


def _not_a_workbook(tmp_path: Path) -> Path:
    path = tmp_path / "c.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "不是工作簿")
    return path


def put(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


MALFORMED = {
    "gbk": lambda p: put(p / "c.csv", "姓名,电话\n张三,13800138000\n".encode("gbk")),
    "nul": lambda p: put(p / "c.csv", b"phone\n1380013\x008000\n"),
    "no_phone_column": lambda p: write_csv(p / "c.csv", "姓名,地址\n张三,东湖\n"),
    "empty": lambda p: write_csv(p / "c.csv", ""),
    "header_only": lambda p: write_csv(p / "c.csv", "电话\n"),
    "repeated_header": lambda p: write_csv(p / "c.csv", "电话,姓名,姓名\n13800138000,a,b\n"),
    "not_zip": lambda p: put(p / "c.xlsx", b"\x89PNG\r\n\x1a\n" + b"\xff" * 64),
    "zip_not_workbook": _not_a_workbook,
    "suffix": lambda p: write_csv(p / "c.txt", "电话\n13800138000\n"),
    "missing": lambda p: p / "nowhere.csv",
    "directory": lambda p: (p / "d.csv").mkdir() or p / "d.csv",
    "huge_field": lambda p: write_csv(p / "c.csv", "电话,x\n13800138000,\"" + "y" * 200_000 + "\"\n"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_files_are_refused_clearly(kind: str, sqlite_engine: Engine,
                                             tmp_path: Path) -> None:
    ref = new_campaign(sqlite_engine)
    path = MALFORMED[kind](tmp_path)
    with pytest.raises(InvalidInput) as refused:
        import_file(sqlite_engine, ref, path)
    assert refused.value.field == "file"
    assert refused.value.zh and refused.value.en
    assert desk(sqlite_engine).service.campaign(ref).contacts == 0


def test_imports_only_while_the_campaign_allows(sqlite_engine: Engine, tmp_path: Path) -> None:
    ref = new_campaign(sqlite_engine)
    campaigns = desk(sqlite_engine)
    campaigns.execute("cancel_campaign", ref, actor=CENTRE, reason="重复创建")
    from domain.campaign.errors import IllegalCampaignTransition

    with pytest.raises(IllegalCampaignTransition):
        import_file(sqlite_engine, ref, write_csv(tmp_path / "c.csv", "电话\n13800138000\n"))
