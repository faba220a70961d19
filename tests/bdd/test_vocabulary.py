"""The step vocabulary (features/步骤词汇.md) matches the step definitions, and every
phrase is documented, exemplified, unambiguous and used by some scenario."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest_bdd.feature import get_features
from pytest_bdd.steps import step_function_context_registry

from tests.bdd.registry import EXAMPLE_KEYWORDS, EXAMPLE_MARK, REGISTRY, StepSpec
from tests.bdd.steps import STEP_MODULES
from tools.vocabulary import COMMAND, VOCABULARY_PATH, diff, render

FEATURES = VOCABULARY_PATH.parent
STEPS_DIR = Path(__file__).parent / "steps"
_IDS = [spec.phrase for spec in REGISTRY]


def _committed() -> str:
    assert VOCABULARY_PATH.exists(), f"缺少 {VOCABULARY_PATH}，请运行：{COMMAND}"
    return VOCABULARY_PATH.read_text(encoding="utf-8")


def test_every_step_is_in_the_vocabulary_and_vice_versa() -> None:
    listed = set(re.findall(r"^### `(.+)`$", _committed(), flags=re.M))
    defined = {spec.display() for spec in REGISTRY}
    assert not defined - listed, f"步骤未写入词汇表：{sorted(defined - listed)}；请运行：{COMMAND}"
    assert not listed - defined, f"词汇表中的步骤已不存在：{sorted(listed - defined)}；请运行：{COMMAND}"


def test_vocabulary_file_is_up_to_date() -> None:
    committed, generated = _committed(), render()
    assert committed == generated, f"请运行：{COMMAND}\n{diff(committed, generated)}"


def test_every_step_module_is_loaded() -> None:
    on_disk = {p.stem for p in STEPS_DIR.glob("*.py") if p.stem != "__init__"}
    loaded = {module.__name__.rsplit(".", 1)[1] for module in STEP_MODULES}
    assert on_disk == loaded, f"tests/bdd/steps/__init__.py 的 STEP_MODULES 缺少 {on_disk - loaded}"


def test_every_step_goes_through_the_registry() -> None:
    """No step module binds a phrase with pytest-bdd's decorators directly."""
    modules = {module.__name__ for module in STEP_MODULES}
    bound = {ctx.parser.name for ctx in step_function_context_registry.values()
             if ctx.step_func.__module__ in modules}
    registered = {spec.parser.name for spec in REGISTRY}
    assert bound == registered, f"未经 tests/bdd/registry.py 注册的步骤：{bound - registered}"


@pytest.mark.parametrize("spec", REGISTRY, ids=_IDS)
def test_docstring_gives_meaning_and_a_working_example(spec: StepSpec) -> None:
    assert "\n" not in spec.doc, "步骤函数的文档字符串须为一行"
    assert spec.meaning, f"缺少含义：文档字符串应为“含义。{EXAMPLE_MARK}关键字 步骤”"
    keyword, _, text = spec.example.partition(" ")
    assert keyword in EXAMPLE_KEYWORDS, f"示例须以 {'、'.join(EXAMPLE_KEYWORDS)} 开头：{spec.example!r}"
    assert EXAMPLE_KEYWORDS[keyword] in spec.kinds, f"关键字“{keyword}”不适用于此步骤"
    assert spec.matches(text), f"示例与步骤不符：{text!r}"
    others = [o.phrase for o in REGISTRY
              if o is not spec and EXAMPLE_KEYWORDS[keyword] in o.kinds and o.matches(text)]
    assert not others, f"示例同时匹配其他步骤（有歧义）：{others}"


def _scenario_steps() -> list[tuple[str, str, str]]:
    """(type, text, where) of every step of every scenario, outlines expanded."""
    found = []
    for feature in get_features([str(FEATURES)]):
        for template in feature.scenarios.values():
            contexts = [c for examples in template.examples for c in examples.as_contexts()]
            for context in contexts or [{}]:
                for step in template.render(context).steps:
                    where = f"{feature.rel_filename}:{step.line_number}"
                    found.append((step.type, step.name, where))
    return found


def test_every_scenario_step_matches_exactly_one_phrase() -> None:
    problems = []
    for kind, text, where in _scenario_steps():
        matches = [s.phrase for s in REGISTRY if kind in s.kinds and s.matches(text)]
        if len(matches) != 1:
            problems.append(f"{where} {text!r}: {matches or '没有匹配的步骤'}")
    assert not problems, "\n".join(problems)


def test_every_phrase_is_used_by_some_scenario() -> None:
    steps = _scenario_steps()
    unused = [s.phrase for s in REGISTRY
              if not any(kind in s.kinds and s.matches(text) for kind, text, _ in steps)]
    assert not unused, f"没有场景使用的步骤：{unused}"
