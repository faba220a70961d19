"""The department registry (单位名录): units, their supervising department and duty phone."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from domain.errors import InvalidInput, UnknownDepartment, shown
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
        self._phones_checked = False

    def _checked(self) -> dict[str, Department]:
        """Duty phones are normalised (and a bad one refused, naming the unit) on first use:
        parsing them costs ~0.1 s of start-up that read-only commands never need."""
        if not self._phones_checked:
            for name, dept in list(self._by_name.items()):
                try:
                    phone = normalize_phone(dept.duty_phone)
                except InvalidInput:
                    raise InvalidInput(
                        "duty_phone", f"单位“{name}”的值班电话无效：{shown(dept.duty_phone)}",
                        f"duty phone of {name!r} is invalid: {shown(dept.duty_phone)!r}",
                    ) from None
                self._by_name[name] = replace(dept, duty_phone=phone)
            self._phones_checked = True
        return self._by_name

    def get(self, name: str) -> Department:
        try:
            return self._checked()[name]
        except KeyError:
            raise UnknownDepartment(name) from None

    def all(self) -> list[Department]:
        return list(self._checked().values())

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
            if "token" in row:
                # Credentials in clear in a config file are readable by anyone who can
                # read the config (and its backups, and the repository it sits in).
                raise InvalidInput(
                    "registry", f"单位名录第 {index} 条含明文令牌（token）：请删除 token 行，"
                    "改用 rexian token issue --role department --id 标识 --dept 单位 签发令牌",
                    f"{file}: department #{index} has a plaintext token: remove the token "
                    "lines and issue tokens with `rexian token issue --role department --id ID "
                    "--dept UNIT` (only their hashes are stored)")
            for key in ("name", "region", "duty_phone"):
                if not isinstance(row.get(key), str) or not row[key].strip():
                    raise InvalidInput(key, f"单位名录第 {index} 条缺少 {key}",
                                       f"{file}: department #{index} lacks {key!r}")
            departments.append(Department(
                name=row["name"].strip(),
                region=row["region"].strip(),
                supervisor=(row.get("supervisor") or None),
                duty_phone=row["duty_phone"].strip(),
            ))
        return cls(departments)
