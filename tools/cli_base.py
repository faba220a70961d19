"""Pieces every `rexian` command module shares: the help-screen classes and the --json flag.

Kept tiny and free of engine imports so each command module can use it without cycles.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup


class _NoFlagMetavar:
    """--help is a flag: show it without typer's `<bool>` type label."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class Command(_NoFlagMetavar, TyperCommand):
    """A command whose help lists flags without a type label."""


class Group(_NoFlagMetavar, TyperGroup):
    """A command group whose help lists flags without a type label."""


# Flags take no value: metavar="" keeps typer's `<bool>` out of the help screen.
JsonOpt = Annotated[bool, typer.Option("--json", metavar="", help="Print JSON.")]
