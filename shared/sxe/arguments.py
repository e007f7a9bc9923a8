"""Argument types shared by the `sxe` subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(option: str, low: int, high: int) -> Callable[[str], int]:
    """Return an argparse type that reads a whole number from `low` to `high` for `option`, or names the fix."""

    def parse(text: str) -> int:
        number = int(text) if text.strip().isdigit() else low - 1
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"invalid {option} {text!r}: give a whole number from {low} to {high}")
        return number

    return parse
