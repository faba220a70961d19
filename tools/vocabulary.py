"""Render the BDD step vocabulary (features/步骤词汇.md) from the step definitions.

    python -m tools.vocabulary > features/步骤词汇.md   # regenerate
    python -m tools.vocabulary --check                 # exit 1 with a diff if the file is stale

The step modules (tests/bdd/steps) declare every phrase through tests/bdd/registry.py,
which records the phrase, the one-line docstring (meaning + example) and the theme.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from tests.bdd.registry import PARAMETERS, REGISTRY, StepSpec, keywords
from tests.bdd.steps import STEP_MODULES

VOCABULARY_PATH = Path(__file__).resolve().parent.parent / "features" / "步骤词汇.md"
COMMAND = "python -m tools.vocabulary > features/步骤词汇.md"

_INTRO = f"""\
<!-- 本文件由 tools/vocabulary.py 根据 tests/bdd/steps 中的步骤定义生成，请勿手工修改。
     修改步骤后重新生成：{COMMAND} -->

# 步骤词汇表

业务人员可以只用下面列出的步骤编写新的场景（features/*.feature），无需编写 Python。

## 写法说明

- 文件第一行写 `# language: zh-CN`，然后是 `功能:`、`背景:`、`场景:` 或 `场景大纲:`（配 `例子:` 表格）。
- 关键字：`假如`/`假设` 写前提，`当` 写要检验的操作，`那么` 写预期结果；`并且`/`而且` 沿用上一行的关键字。
- 关键字一栏为“假如 / 当”的是对工单的操作：写在 `假如` 后是前提，必须成功，否则场景报错；
  写在 `当` 后是被检验的操作，成功与否由 `那么 操作成功` 或 `那么 操作被拒绝，提示包含"……"` 检查
  （后者同时核对被拒绝的操作没有留下任何记录、工单版本不变）。
- 参数写在英文双引号里，如 `"区城管局"`；引号里可以为空，但不能再出现英文双引号（中文引号“”可以）。
  `{{天数}}`、`{{数量}}` 这类不带引号的参数只写整数。
- 场景大纲中用 `<列名>` 代入 `例子` 表格的值，整句步骤也可以整体代入。
- “当前工单”是最近受理或切换到的那张工单；需要同时操作几张工单时用“记此工单为”起代号。
"""


def _params_table() -> list[str]:
    lines = ["## 参数", "", "| 参数 | 含义 |", "| --- | --- |"]
    used = {name for spec in REGISTRY for name in spec.params}
    for name, (label, meaning) in PARAMETERS.items():
        if name in used:
            lines.append(f"| {{{label}}} | {meaning} |")
    return [*lines, ""]


def _step(spec: StepSpec) -> list[str]:
    lines = [f"### `{spec.display()}`", "", f"- 关键字：{keywords(spec)}", f"- 含义：{spec.meaning}"]
    for name in dict.fromkeys(spec.params):
        label, meaning = PARAMETERS[name]
        lines.append(f"- {{{label}}}：{meaning}")
    lines.append(f"- 示例：`{spec.example}`")
    return [*lines, ""]


def render() -> str:
    by_module: dict[str, list[StepSpec]] = {}
    for spec in REGISTRY:
        by_module.setdefault(spec.module, []).append(spec)
    out = [_INTRO]
    out.append(f"共 {len(REGISTRY)} 个步骤，分 {len(STEP_MODULES)} 个主题。")
    out.append("")
    out += _params_table()
    for module in STEP_MODULES:
        specs = by_module.get(module.__name__, [])
        if not specs:
            continue
        out += [f"## {specs[0].theme}", ""]
        for spec in specs:
            out += _step(spec)
    return "\n".join(out).rstrip("\n") + "\n"


def diff(committed: str, generated: str) -> str:
    return "".join(difflib.unified_diff(
        committed.splitlines(keepends=True), generated.splitlines(keepends=True),
        fromfile=f"{VOCABULARY_PATH.name}（已提交）", tofile=f"{VOCABULARY_PATH.name}（由步骤生成）"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help=f"compare with {VOCABULARY_PATH.name}; exit 1 and print the diff")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        committed = VOCABULARY_PATH.read_text(encoding="utf-8") if VOCABULARY_PATH.exists() else ""
        if committed == text:
            return 0
        _emit(diff(committed, text) + f"\n步骤词汇表已过期，请运行：{COMMAND}\n")
        return 1
    _emit(text)
    return 0


def _emit(text: str) -> None:
    """UTF-8 whatever the locale (the file is committed as UTF-8)."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    sys.exit(main())
