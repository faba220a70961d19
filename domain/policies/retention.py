"""How long a citizen's personal data is kept once their orders are closed (config/retention.toml).

Retention erases with the same event as `rexian erase` (domain/erasure.py): a citizen
whose every order has been closed for longer than the period is erased by the tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from domain.errors import InvalidInput, shown
from domain.settings_file import read_toml
from domain.values import Actor

DEFAULT_RETENTION_PATH = Path(__file__).resolve().parents[2] / "config" / "retention.toml"
MAX_DAYS = 36500  # a century: anything longer is a typo
RETENTION_ACTOR = Actor("system", "retention-policy")  # who the Erased events name


@dataclass(frozen=True)
class RetentionPolicy:
    days_after_closed: int  # 0: never erased automatically

    def cutoff(self, now: datetime) -> datetime | None:
        """Citizens whose last order closed before this are due for erasure (None: off)."""
        return now - timedelta(days=self.days_after_closed) if self.days_after_closed else None

    @property
    def reason(self) -> str:
        """The reason recorded on each Erased event."""
        return (f"保存期限届满：工单办结后 {self.days_after_closed} 天自动删除个人信息 / "
                f"retention period expired: personal data erased {self.days_after_closed} "
                "days after the citizen's last order closed")


def _error(zh: str, en: str) -> InvalidInput:
    return InvalidInput("retention", f"保存期限策略文件错误：{zh}", f"retention policy file: {en}")


def load_retention(path: str | Path | None = None) -> RetentionPolicy:
    """The policy in `path` (default config/retention.toml), validated."""
    path = Path(path) if path else DEFAULT_RETENTION_PATH
    data = read_toml(path, _error)
    unknown = set(data) - {"personal_data"}
    section = data.get("personal_data")
    if unknown or not isinstance(section, dict):
        raise _error("应只有 [personal_data] 一节", "expected exactly a [personal_data] section")
    if set(section) != {"days_after_closed"}:
        raise _error("[personal_data] 应只有 days_after_closed 一项",
                     "[personal_data] takes exactly days_after_closed")
    days = section["days_after_closed"]
    if type(days) is not int or not 0 <= days <= MAX_DAYS:
        raise _error(f"days_after_closed 应为 0–{MAX_DAYS} 的整数（现为 {shown(days, 40)}）",
                     f"days_after_closed must be an integer 0–{MAX_DAYS} (got {shown(days, 40)})")
    return RetentionPolicy(days)
