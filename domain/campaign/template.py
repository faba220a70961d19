"""A campaign message as a template: "{姓名}您好，您的养老金资格认证将于{截止日期}到期。"

Variables are the contact file's columns, named in braces: 姓名 (or name) and every column
other than the phone. A template is checked when the campaign is created (braces paired,
names non-empty) and again at import against the file's header: a variable naming a column
the file lacks is refused there, naming it, and nothing is imported. Rendering a contact's
message therefore never meets an unknown name.

What is recorded as said is the template, never the rendered text: the rendered text holds
the contact's personal data (a name, a deadline, a plate number), which lives only in the
vault token; the template and that token together say exactly what the citizen heard, and
erasing the citizen shreds both the data and the means to rebuild it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from domain.errors import InvalidInput, shown

_VARIABLE = re.compile(r"\{([^{}]*)\}")
NAME_VARIABLES = ("姓名", "name")
MAX_VARIABLE = 50


def variables(template: str, field: str = "message", label: str = "播报内容") -> list[str]:
    """The variable names of `template`, in order, once each; stray braces or an empty
    name are refused."""
    names: list[str] = []
    for match in _VARIABLE.finditer(template):
        name = match.group(1).strip()
        if not name or len(name) > MAX_VARIABLE:
            raise InvalidInput(field, f"{label}中的变量“{{{shown(match.group(1), 20)}}}”无效"
                               "（花括号内应为名单的列名）",
                               f"the {field}'s variable {{{shown(match.group(1), 20)}}} is "
                               "invalid (braces hold a column name of the contact file)")
        if name not in names:
            names.append(name)
    rest = _VARIABLE.sub("", template)
    if "{" in rest or "}" in rest:
        raise InvalidInput(field, f"{label}中的花括号不成对：{shown(template, 80)}",
                           f"the {field} has unpaired braces: {shown(template, 80)}")
    return names


def missing_columns(template: str, columns: Iterable[str]) -> list[str]:
    """The template's variables that are no column of a file with `columns` (variables).
    姓名 / name is the one optional column every file may leave out: without it the
    variable is empty ("{姓名}您好" says 您好)."""
    known = set(columns) | set(NAME_VARIABLES)
    return [name for name in variables(template) if name not in known]


def render(template: str, values: Mapping[str, str]) -> str:
    """The template with each variable replaced by the contact's value ("" when the
    contact's cell was empty)."""
    return _VARIABLE.sub(lambda match: values.get(match.group(1).strip(), ""), template)


def contact_values(name: str, columns: Mapping[str, str]) -> dict[str, str]:
    """What a contact's template variables are: its columns, and its name under 姓名/name."""
    return {**dict.fromkeys(NAME_VARIABLES, name), **columns}
