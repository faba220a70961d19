"""Contact files (CSV and XLSX) for campaigns: read, checked, and read again to import.

A header row; a 电话 (or phone) column is required, 姓名 (or name) optional, every other
column a template variable. Two passes, so memory stays bounded whatever the size: the
check pass keeps only each phone's first row (to find duplicates) and the rejected rows;
the import pass reads the file again and yields the valid rows one by one.

Whatever is wrong with the file itself (not UTF-8, not a workbook, no phone column, NUL
bytes, a runaway field) is an InvalidInput naming it: exit 2, never a traceback.
"""

from __future__ import annotations

import csv
import hashlib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from domain.campaign.service import ContactRow
from domain.errors import DomainError, InvalidInput, shown
from domain.phone import normalize_phone
from domain.values import optional_text, require_text

PHONE_HEADERS = ("电话", "phone")
NAME_HEADERS = ("姓名", "name")
MAX_COLUMNS = 100
MAX_ROWS = 1_000_000
MAX_CELL = 500  # characters of one variable
MAX_NAME = 50
FORMATS = (".csv", ".xlsx")


@dataclass(frozen=True)
class Rejected:
    row: int
    zh: str
    en: str

    @property
    def reason(self) -> str:
        return f"{self.zh} / {self.en}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "reason": self.reason}


@dataclass
class CheckedFile:
    """What the check pass found."""

    path: Path
    sha256: str
    valid: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    # The normalised phone of each valid row: the import pass does not parse it again
    # (phonenumbers is most of the cost of a row).
    phones: dict[int, str] = field(default_factory=dict, repr=False)
    # The header: the template variables it offers (every column but phone and name).
    variables: tuple[str, ...] = ()
    has_name: bool = False


class RejectedRows(InvalidInput):
    """Some rows are invalid and --skip-invalid was not given: nothing is imported."""

    def __init__(self, checked: CheckedFile) -> None:
        lines = [f"第 {r.row} 行：{r.zh}" for r in checked.rejected]
        lines_en = [f"row {r.row}: {r.en}" for r in checked.rejected]
        super().__init__(
            "file",
            f"名单有 {len(checked.rejected)} 行无效，未导入任何联系人（可加 --skip-invalid 只导入有效行）：\n"
            + "\n".join(lines),
            f"{len(checked.rejected)} rows are invalid, nothing was imported (--skip-invalid "
            "imports the valid rows):\n" + "\n".join(lines_en))
        self.checked = checked


def _file_error(path: Path, zh: str, en: str) -> InvalidInput:
    return InvalidInput("file", f"名单文件 {shown(path.name, 80)} {zh}",
                        f"contact file {shown(path.name, 80)}: {en}")


def _cell(value: Any) -> str:
    """A cell as text: Excel keeps phone numbers as numbers (13800138000.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        line = 0
        try:
            for cells in reader:
                line = reader.line_num
                yield line, cells
        except UnicodeDecodeError:
            raise _file_error(path, f"第 {line + 1} 行附近不是 UTF-8 编码，请另存为“CSV UTF-8”",
                              f"is not UTF-8 near line {line + 1}: save it as CSV UTF-8") from None
        except csv.Error as error:
            raise _file_error(path, f"第 {reader.line_num} 行无法解析：{shown(str(error), 100)}",
                              f"line {reader.line_num} cannot be parsed: "
                              f"{shown(str(error), 100)}") from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise _file_error(path, f"不是有效的 XLSX 工作簿：{shown(str(error), 100)}",
                          f"is not a valid XLSX workbook: {shown(str(error), 100)}") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise _file_error(path, "没有工作表", "has no worksheet")
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(values) > MAX_COLUMNS * 10:
                raise _file_error(path, f"第 {number} 行列数过多", f"row {number} has too many columns")
            yield number, [_cell(v) for v in values]
    except DomainError:
        raise
    except Exception as error:  # noqa: BLE001 - any malformed part of the workbook
        raise _file_error(path, f"内容无法读取：{shown(str(error), 100)}",
                          f"cannot be read: {shown(str(error), 100)}") from None
    finally:
        book.close()


def raw_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every row, the header first."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise _file_error(path, "格式不支持：应为 .csv 或 .xlsx", "must be a .csv or .xlsx file")
    if not path.is_file():
        raise _file_error(path, "不存在或不是文件", "does not exist or is not a file")
    if suffix == ".xlsx":
        with path.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                raise _file_error(path, "不是有效的 XLSX 工作簿（不是 zip 文件）",
                                  "is not a valid XLSX workbook (not a zip file)")
        yield from _xlsx_rows(path)
    else:
        yield from _csv_rows(path)


@dataclass(frozen=True)
class Columns:
    phone: int
    name: int | None
    variables: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, path: Path, header: list[str]) -> Columns:
        names = [h.strip() for h in header]
        while names and not names[-1]:
            names.pop()  # trailing empty header cells (Excel leaves them)
        if len(names) > MAX_COLUMNS:
            raise _file_error(path, f"列数过多（最多 {MAX_COLUMNS} 列）",
                              f"has too many columns (max {MAX_COLUMNS})")
        seen: set[str] = set()
        for position, name in enumerate(names, start=1):
            try:
                require_text("header", name, "列名", 50)
            except InvalidInput as error:
                raise _file_error(path, f"表头第 {position} 列无效：{error.zh}",
                                  f"header column {position} is invalid: {error.en}") from None
            if "\n" in name or name.casefold() in seen:
                raise _file_error(path, f"表头第 {position} 列“{shown(name, 50)}”重复或无效",
                                  f"header column {position} {shown(name, 50)!r} is repeated "
                                  "or invalid")
            seen.add(name.casefold())
        folded = [n.casefold() for n in names]
        phone = next((i for i, n in enumerate(folded) if n in PHONE_HEADERS), None)
        if phone is None:
            raise _file_error(path, "缺少“电话”（或 phone）列", "has no 电话 (or phone) column")
        name_col = next((i for i, n in enumerate(folded) if n in NAME_HEADERS), None)
        variables = tuple((i, n) for i, n in enumerate(names) if i not in (phone, name_col))
        return cls(phone, name_col, variables)

    def parse(self, cells: list[str], row: int, phone: str | None = None) -> ContactRow:
        """The row as a contact, or InvalidInput naming what is wrong with it (`phone`:
        the row's number as already normalised)."""
        def at(index: int | None) -> str:
            return cells[index] if index is not None and index < len(cells) else ""

        if phone is None:
            raw_phone = at(self.phone)
            if not raw_phone.strip():
                raise InvalidInput("phone", "电话为空", "the phone number is empty")
            phone = normalize_phone(raw_phone)
        name = optional_text("name", at(self.name), "姓名", MAX_NAME)
        variables = {label: optional_text("variable", at(i), label, MAX_CELL)
                     for i, label in self.variables}
        extra = [c for c in cells[max(self.phone, self.name or 0,
                                      *(i for i, _ in self.variables)) + 1:] if c.strip()]
        if extra:
            raise InvalidInput("row", "该行的列数多于表头", "the row has more cells than the header")
        return ContactRow(row, phone, name, variables)


def _rows(path: Path) -> Iterator[tuple[Columns, int, list[str]]]:
    rows = raw_rows(path)
    header = next(rows, None)
    if header is None:
        raise _file_error(path, "是空文件（缺少表头行）", "is empty (no header row)")
    columns = Columns.of(path, header[1])
    for number, cells in rows:
        if number > MAX_ROWS + 1:
            raise _file_error(path, f"行数过多（最多 {MAX_ROWS} 行）", f"has too many rows (max {MAX_ROWS})")
        if any(c.strip() for c in cells):  # blank rows (Excel leaves them) are no contacts
            yield columns, number, cells


def check_file(path: Path, blocked: Callable[[str], bool],
               on_progress: Callable[[int, int], None] | None = None) -> CheckedFile:
    """The check pass: every row parsed; duplicates (the later rows) and blocked numbers
    rejected. Memory: one entry per distinct phone and one per rejected row."""
    if path.suffix.lower() not in FORMATS or not path.is_file():
        next(raw_rows(path))  # names what is wrong with the path
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    checked = CheckedFile(path, digest.hexdigest())
    first_row: dict[str, int] = {}  # each distinct phone's first row (duplicates)
    for columns, number, cells in _rows(path):
        checked.variables = tuple(label for _, label in columns.variables)
        checked.has_name = columns.name is not None
        try:
            contact = columns.parse(cells, number)
        except InvalidInput as error:
            checked.rejected.append(Rejected(number, error.zh, error.en))
            continue
        if contact.phone in first_row:
            checked.rejected.append(Rejected(
                number, f"电话与第 {first_row[contact.phone]} 行重复",
                f"same phone number as row {first_row[contact.phone]}"))
            continue
        first_row[contact.phone] = number
        if blocked(contact.phone):
            checked.rejected.append(Rejected(number, "号码在免打扰名单上",
                                             "the number is on the do-not-call list"))
            continue
        checked.valid += 1
        checked.phones[number] = contact.phone
        if on_progress is not None and checked.valid % 1000 == 0:
            on_progress(checked.valid, 0)
    return checked


def valid_rows(checked: CheckedFile) -> Iterator[ContactRow]:
    """The import pass: the rows the check pass accepted, read again one by one."""
    for columns, number, cells in _rows(checked.path):
        phone = checked.phones.get(number)
        if phone is not None:
            yield columns.parse(cells, number, phone)
