"""Reading an uploaded XLSX workbook's first sheet (dispatch catalogue, knowledge base):
whatever is malformed about it becomes the caller's InvalidInput, never a traceback."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from domain.errors import DomainError, InvalidInput, shown

Fail = Callable[[str, str], InvalidInput]  # (zh, en) -> the error naming the file


@contextmanager
def first_sheet_rows(data: bytes, fail: Fail) -> Iterator[Iterator[tuple[Any, ...]]]:
    """The first sheet's rows (cell values), read-only and streaming."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not data.startswith(b"PK\x03\x04"):
        raise fail("不是有效的 XLSX 工作簿（不是 zip 文件）",
                   "is not a valid XLSX workbook (not a zip file)")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise fail(f"不是有效的 XLSX 工作簿：{shown(str(error), 100)}",
                   f"is not a valid XLSX workbook: {shown(str(error), 100)}") from None
    try:
        if not book.worksheets:
            raise fail("没有工作表", "has no worksheet")
        yield book.worksheets[0].iter_rows(values_only=True)
    except DomainError:
        raise
    except Exception as error:  # noqa: BLE001 - any malformed part of the workbook
        raise fail(f"内容无法读取：{shown(str(error), 100)}",
                   f"cannot be read: {shown(str(error), 100)}") from None
    finally:
        book.close()
