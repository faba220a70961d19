"""The dispatch catalogue (派单目录, issue 14 item 1): the shipped sample catalogue is valid
and covers the sample district, and a bad catalogue is refused whole with every bad row named."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from domain.departments import DepartmentRegistry
from domain.dispatch.catalogue import CatalogueInvalid, parse_catalogue

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "dispatch_catalogue.csv"
TOPICS = {"噪音", "垃圾", "供水", "供电", "道路交通", "住房物业", "劳动社保", "医疗保险",
          "食品安全", "消费维权", "教育", "环境污染", "宠物", "邻里事务"}


def units() -> set[str]:
    return {dept.name for dept in DepartmentRegistry.load().all()}


def sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_sample_catalogue_is_valid_and_covers_the_district() -> None:
    items = parse_catalogue(sample_rows(), units())
    assert len(items) >= 60
    assert {item.lead for item in items} == units()  # every unit leads at least one item
    assert TOPICS <= {item.category for item in items}
    # region-dependent answers: the same item goes to each street's own office
    by_region = {item.region: item.lead for item in items if item.item == "楼道堆物"}
    assert by_region == {"甬江区东湖街道": "东湖街道办事处", "甬江区西塘街道": "西塘街道办事处",
                         "甬江区南岸镇": "南岸镇人民政府"}
    assert all(item.keywords for item in items)


def test_every_bad_row_is_named_and_nothing_is_returned() -> None:
    rows = sample_rows()[:3]
    good = dict(rows[0])
    unknown = {**rows[1], "lead": "区火星局"}
    empty = {**rows[2], "basis": "  "}
    overlap = {**good, "code": "YJ999"}
    repeated_code = {**rows[1], "item": "另一个事项"}
    bad_assist = {**rows[2], "code": "YJ998", "item": "协办有误", "assisting": "区水务局；区月球办"}
    with pytest.raises(CatalogueInvalid) as caught:
        parse_catalogue([good, unknown, empty, overlap, repeated_code, bad_assist], units())
    problems = {(p.row, p.en.split(":")[0]) for p in caught.value.problems}
    assert problems == {
        (2, "unit not in the department registry"),
        (3, "empty required field(s)"),
        (4, f"item {good['item']!r} in {good['region']} overlaps row 1"),
        (5, "item code YJ002 repeats row 2"),
        (6, "unit not in the department registry"),
    }
    assert "区火星局" in caught.value.zh and "区月球办" in caught.value.en
    assert "未导入任何条目" in caught.value.zh
