"""Calendar operations shared by the CLI and gRPC: import a notice, view a year."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from adapters.bootstrap import Engine
from adapters.calendar.notice import parse_notice
from domain.errors import InvalidInput
from domain.values import Actor


def import_notice(engine: Engine, text: str, replace: bool, actor: Actor) -> dict[str, Any]:
    """Parse, validate and record a notice; what was understood and what was done."""
    notice = parse_notice(text)
    result = engine.service.import_arrangement(notice.content(), replace=replace, actor=actor)
    return {**result, "title": notice.title, "source_sha256": notice.source_sha256,
            "festivals": [f.as_dict() for f in notice.festivals]}


def read_notice(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InvalidInput("file", f"无法读取通知文件 {path}：{error.strerror}",
                           f"cannot read notice file {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file", f"通知文件 {path} 不是 UTF-8 文本",
                           f"notice file {path} is not UTF-8 text") from None


def year_view(engine: Engine, year: int) -> dict[str, Any]:
    """A year's days off and adjusted working days with the source, and every year's source."""
    deadlines = engine.service.deadlines
    if deadlines is None:
        raise InvalidInput("calendar", "引擎未配置时限策略", "the engine has no deadline policy")
    engine.service.refresh_calendar()  # the store's imports, as another process left them
    cal = deadlines.calendar
    try:
        arrangement = cal.arrangement(year)
    except ValueError as error:
        zh = getattr(error, "zh", str(error))
        raise InvalidInput("year", zh, getattr(error, "en", str(error))) from None
    days = [date.fromordinal(o) for o in range(date(year, 1, 1).toordinal(),
                                               date(year, 12, 31).toordinal() + 1)]
    off = [d for d in days if not cal.is_working_day(d) and d.weekday() < 5]
    working_weekends = [d for d in days if cal.is_working_day(d) and d.weekday() >= 5]
    return {
        "year": year, "basis": arrangement.basis, "source": arrangement.source,
        "version": arrangement.version,
        "weekday_days_off": [{"date": d.isoformat(), "name": arrangement.names.get(d, "调休")}
                             for d in off],
        "working_weekends": [d.isoformat() for d in working_weekends],
        "working_days": sum(1 for d in days if cal.is_working_day(d)),
        "sources": [{"year": a.year, "basis": a.basis, "source": a.source}
                    for a in cal.arrangements()],
    }
