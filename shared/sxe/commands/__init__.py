"""Subcommands of `sxe`, one module each.

Every module in this package defines `register(commands)`, which adds its
subparser and sets `handler` to a function taking the parsed arguments and
returning the exit status. The command line finds the modules by name, so a new
command needs no change anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def register_all(commands: Any) -> None:
    """Register every subcommand module of this package, in name order."""
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        module.register(commands)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """Return the number with the noun, plural unless the number is 1: "1 card", "3 cards".

    `plural` replaces the noun with "s" added, as "batches" does for "batch".
    """
    if number == 1:
        return f"{number} {noun}"
    return f"{number} {plural or noun + 's'}"
