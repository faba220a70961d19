"""The department registry (单位名录): units, their supervising department and duty phone."""

from __future__ import annotations

import tomllib
from pathlib import Path

from domain.errors import InvalidInput, UnknownDepartment
from domain.phone import normalize_phone
from domain.ports import Department

DEFAULT_REGISTRY = Path(__file__).resolve().parent.parent / "config" / "departments.toml"


class DepartmentRegistry:
    """In-memory registry loaded from a TOML file; implements the DepartmentDirectory port."""

    def __init__(self, departments: list[Department]) -> None:
        self._by_name: dict[str, Department] = {}
        for dept in departments:
            if dept.name in self._by_name:
                raise InvalidInput("departments", f"单位名录重复：{dept.name}",
                                   f"duplicate department {dept.name!r} in registry")
            self._by_name[dept.name] = dept
        for dept in departments:
            if dept.supervisor and dept.supervisor not in self._by_name:
                raise InvalidInput(
                    "supervisor",
                    f"单位“{dept.name}”的上级单位“{dept.supervisor}”不在名录中",
                    f"supervisor {dept.supervisor!r} of {dept.name!r} is not in the registry",
                )

    def get(self, name: str) -> Department:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownDepartment(name) from None

    def all(self) -> list[Department]:
        return list(self._by_name.values())

    def by_token(self, token: str) -> Department | None:
        for dept in self._by_name.values():
            if token and dept.token == token:
                return dept
        return None

    @classmethod
    def load(cls, path: Path | str | None = None) -> DepartmentRegistry:
        file = Path(path) if path else DEFAULT_REGISTRY
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidInput("registry", f"单位名录文件不存在：{file}",
                               f"department registry not found: {file}") from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput("registry", f"单位名录格式错误：{exc}",
                               f"malformed department registry {file}: {exc}") from None
        rows = data.get("department")
        if not isinstance(rows, list) or not rows:
            raise InvalidInput("registry", "单位名录为空（需要 [[department]] 条目）",
                               f"{file}: expected [[department]] entries")
        departments = []
        for index, row in enumerate(rows, start=1):
            for key in ("name", "region", "duty_phone"):
                if not isinstance(row.get(key), str) or not row[key].strip():
                    raise InvalidInput(key, f"单位名录第 {index} 条缺少 {key}",
                                       f"{file}: department #{index} lacks {key!r}")
            departments.append(Department(
                name=row["name"].strip(),
                region=row["region"].strip(),
                supervisor=(row.get("supervisor") or None),
                duty_phone=normalize_phone(row["duty_phone"]),
                token=str(row.get("token", "")),
            ))
        return cls(departments)
