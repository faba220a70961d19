"""The dispatch catalogue (派单目录): which unit leads, and which assist, on each item (事项)
in each region, with the keywords that recognise it and the basis (三定 / 权责清单) for it.

Pure validation of catalogue rows; reading a spreadsheet and recording the catalogue as
events are the caller's business. A catalogue is accepted whole or not at all, so every bad
row is reported at once instead of the first one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.errors import InvalidInput, shown
from domain.values import optional_text

COLUMNS = ("code", "category", "item", "region", "lead", "assisting", "keywords", "basis")
REQUIRED = ("code", "category", "item", "region", "lead", "keywords", "basis")
# Lists inside one cell: ";" and the full-width "；" both occur in hand-made spreadsheets.
_LIST_SEPARATORS = (";", "；", "、")
# Longest cell accepted per column (the basis cites a clause; the rest are short names).
_MAX_CELL = {"basis": 500, "keywords": 1000, "assisting": 500}
_LABELS = {"code": "事项编码", "category": "类别", "item": "事项", "region": "区域",
           "lead": "主办单位", "assisting": "协办单位", "keywords": "关键词", "basis": "依据"}


@dataclass(frozen=True)
class CatalogueItem:
    code: str
    category: str
    item: str
    region: str
    lead: str
    assisting: tuple[str, ...]
    keywords: tuple[str, ...]
    basis: str

    def as_row(self) -> dict[str, object]:
        """Plain data, as an event records it (lists, not tuples: they come back as lists)."""
        return {"code": self.code, "category": self.category, "item": self.item,
                "region": self.region, "lead": self.lead, "assisting": list(self.assisting),
                "keywords": list(self.keywords), "basis": self.basis}

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> CatalogueItem:
        def texts(name: str) -> tuple[str, ...]:
            value = row[name]
            return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()

        return cls(str(row["code"]), str(row["category"]), str(row["item"]),
                   str(row["region"]), str(row["lead"]), texts("assisting"), texts("keywords"),
                   str(row["basis"]))

    def applies_to(self, region: str) -> bool:
        """The item covers `region`: its own region or any place inside it (甬江区 covers
        甬江区东湖街道)."""
        return region.startswith(self.region)


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based data row (the header is row 0), as a spreadsheet user counts after it
    zh: str
    en: str


class CatalogueInvalid(InvalidInput):
    """The catalogue was refused: `problems` names every bad row."""

    def __init__(self, problems: list[RowProblem]) -> None:
        zh = "；".join(f"第 {p.row} 行：{p.zh}" for p in problems)
        en = "; ".join(f"row {p.row}: {p.en}" for p in problems)
        super().__init__("catalogue", f"派单目录有误，未导入任何条目：{zh}",
                         f"dispatch catalogue refused, nothing imported: {en}")
        self.problems = problems


def _split(cell: str) -> tuple[str, ...]:
    for sep in _LIST_SEPARATORS[1:]:
        cell = cell.replace(sep, _LIST_SEPARATORS[0])
    return tuple(part.strip() for part in cell.split(_LIST_SEPARATORS[0]) if part.strip())


def _unreadable(row: Mapping[str, str]) -> tuple[str, str] | None:
    """Control characters, undecodable text or a runaway cell, named by column."""
    for name in COLUMNS:
        try:
            optional_text(name, row[name], _LABELS[name], _MAX_CELL.get(name, 100))
        except InvalidInput as error:
            return (f"{_LABELS[name]}（{name}）无效：{error.zh}",
                    f"column {name} is invalid: {error.en}")
    return None


def parse_catalogue(rows: Iterable[Mapping[str, str | None]],
                    known_units: set[str]) -> list[CatalogueItem]:
    """Catalogue items from rows keyed by COLUMNS, or CatalogueInvalid naming every row with
    an empty required field, an unknown unit, or an item already given for that region."""
    problems: list[RowProblem] = []
    items: list[CatalogueItem] = []
    seen_codes: dict[str, int] = {}
    seen_items: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(rows, start=1):
        row = {name: (raw.get(name) or "").strip() for name in COLUMNS}
        unreadable = _unreadable(row)
        if unreadable:
            problems.append(RowProblem(number, unreadable[0], unreadable[1]))
            continue
        empty = [name for name in REQUIRED if not row[name]]
        if empty:
            problems.append(RowProblem(number, f"必填字段为空：{'、'.join(empty)}",
                                       f"empty required field(s): {', '.join(empty)}"))
            continue
        assisting = _split(row["assisting"])
        for unit in (row["lead"], *assisting):
            if unit not in known_units:
                problems.append(RowProblem(number, f"单位不在单位名录中：{shown(unit)}",
                                           f"unit not in the department registry: {shown(unit)}"))
        if row["lead"] in assisting:
            problems.append(RowProblem(number, "主办单位不能同时是协办单位",
                                       "the lead unit is also listed as assisting"))
        if row["code"] in seen_codes:
            problems.append(RowProblem(
                number, f"事项编码 {shown(row['code'])} 与第 {seen_codes[row['code']]} 行重复",
                f"item code {shown(row['code'])} repeats row {seen_codes[row['code']]}"))
        key = (row["item"], row["region"])
        if key in seen_items:
            problems.append(RowProblem(
                number,
                f"事项「{shown(row['item'])}」在 {shown(row['region'])} 与第 {seen_items[key]} 行重叠",
                f"item {shown(row['item'])!r} in {shown(row['region'])} overlaps row {seen_items[key]}"))
        seen_codes.setdefault(row["code"], number)
        seen_items.setdefault(key, number)
        items.append(CatalogueItem(row["code"], row["category"], row["item"], row["region"],
                                   row["lead"], assisting, _split(row["keywords"]), row["basis"]))
    if problems:
        raise CatalogueInvalid(problems)
    return items
