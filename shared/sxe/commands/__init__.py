"""Subcommands of `sxe`, one module each.

Every module in this package defines `register(commands)`, which adds its
subparser and sets `handler` to a function taking the parsed arguments and
returning the exit status. The command line finds the modules by name, so a new
command needs no change anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

# The status of a command that did part of its work, the same number as `sxe.cli.EXIT_FAILURE`.
# `sxe import` and `sxe run` return it after a file error, with every readable record stored.
EXIT_PARTLY_DONE = 1


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


def report_file_errors(count: int) -> int:
    """Print a stderr line when files could not be read to the end; return the exit status for `count` file errors."""
    if not count:
        return 0
    print(
        f"sxe: {counted(count, 'file error')}: the records before each cut were stored, and none of a "
        "corrupt file. The summary names the files to fetch or compress again",
        file=sys.stderr,
    )
    return EXIT_PARTLY_DONE
