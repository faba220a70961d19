"""Dispatch catalogue files (派单目录, CSV or XLSX): read into rows keyed by the catalogue's
columns (domain/dispatch/catalogue.py COLUMNS), English or Chinese headers.

Whatever is wrong with the file itself (not UTF-8, not a workbook, a missing column, NUL
bytes, too big) is an InvalidInput naming it: exit 2, never a traceback. What is wrong
with a row is the catalogue's own check, which names every bad row at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.uploads import read_upload
from adapters.workbooks import first_sheet_rows
from domain.dispatch.catalogue import COLUMNS
from domain.errors import InvalidInput, shown

FORMATS = (".csv", ".xlsx")
MAX_BYTES = 20 * 1024 * 1024  # a catalogue is a few thousand rows at most
MAX_ROWS = 50_000
# Chinese headers as a centre's own spreadsheet has them.
HEADERS = {"编码": "code", "事项编码": "code", "类别": "category", "事项": "item",
           "事项名称": "item", "区域": "region", "主办单位": "lead", "主办": "lead",
           "协办单位": "assisting", "协办": "assisting", "关键词": "keywords",
           "依据": "basis", "职责依据": "basis"}


@dataclass(frozen=True)
class CatalogueFile:
    name: str
    sha256: str
    rows: list[dict[str, str]]


def _error(name: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput("file", f"派单目录文件 {shown(name, 80)} {zh}",
                        f"catalogue file {shown(name, 80)}: {en}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_rows(name: str, data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise _error(name, f"第 {line} 行附近不是 UTF-8 编码，请另存为“CSV UTF-8”",
                     f"is not UTF-8 near line {line}: save it as CSV UTF-8") from None
    if "\x00" in text:
        raise _error(name, "含有 NUL 字节（不是文本文件）", "holds NUL bytes (not a text file)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [cells for cells in reader]
    except csv.Error as error:
        raise _error(name, f"第 {reader.line_num} 行无法解析：{shown(str(error), 100)}",
                     f"line {reader.line_num} cannot be parsed: {shown(str(error), 100)}"
                     ) from None


def _xlsx_rows(name: str, data: bytes) -> list[list[str]]:
    with first_sheet_rows(data, lambda zh, en: _error(name, zh, en)) as values:
        rows: list[list[str]] = []
        for row in values:
            if len(rows) > MAX_ROWS:
                break
            rows.append([_cell(v) for v in row[:len(COLUMNS) * 4]])
        return rows


def read_catalogue_bytes(name: str, data: bytes) -> CatalogueFile:
    """The rows of a catalogue file given as bytes (`name` says the format by its suffix)."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise _error(name, "格式不支持：应为 .csv 或 .xlsx", "must be a .csv or .xlsx file")
    if len(data) > MAX_BYTES:
        raise _error(name, f"过大（最多 {MAX_BYTES // 1024 // 1024} MB）",
                     f"is too large (max {MAX_BYTES // 1024 // 1024} MB)")
    table = _xlsx_rows(name, data) if suffix == ".xlsx" else _csv_rows(name, data)
    table = [cells for cells in table if any(c.strip() for c in cells)]
    if not table:
        raise _error(name, "是空文件（缺少表头行）", "is empty (no header row)")
    if len(table) > MAX_ROWS + 1:
        raise _error(name, f"行数过多（最多 {MAX_ROWS} 行）", f"has too many rows (max {MAX_ROWS})")
    header = [HEADERS.get(h.strip(), h.strip().casefold()) for h in table[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise _error(name, f"缺少列：{'、'.join(missing)}（表头应为 {','.join(COLUMNS)}）",
                     f"lacks column(s) {', '.join(missing)} (header: {','.join(COLUMNS)})")
    position = {column: header.index(column) for column in COLUMNS}
    rows = [{column: (cells[i] if i < len(cells) else "") for column, i in position.items()}
            for cells in table[1:]]
    return CatalogueFile(Path(name).name, hashlib.sha256(data).hexdigest(), rows)


def read_catalogue(path: str | Path) -> CatalogueFile:
    return read_catalogue_bytes(*read_upload(path, MAX_BYTES, _error))
