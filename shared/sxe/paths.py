"""Locations of the project's data folders, `contracts/` and `migrations/`, beside `shared/`."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from sxe.errors import ConfigError


@cache
def project_root() -> Path:
    """Return the folder holding `contracts/` and `migrations/`.

    SXE_PROJECT_DIR wins; otherwise the folders are looked for above the installed
    package, which finds them in a checkout and in a deployed `lib/` staging.
    """
    explicit = os.environ.get("SXE_PROJECT_DIR")
    if explicit:
        root = Path(explicit).expanduser()
        if not (root / "migrations").is_dir():
            raise ConfigError(f"invalid SXE_PROJECT_DIR {explicit!r}: it has no migrations/ folder")
        return root

    for candidate in Path(__file__).resolve().parents:
        if (candidate / "migrations").is_dir() and (candidate / "contracts").is_dir():
            return candidate
    raise ConfigError(
        "cannot find the contracts/ and migrations/ folders above the sxe package; "
        "set SXE_PROJECT_DIR to the project checkout"
    )


def migrations_dir() -> Path:
    return project_root() / "migrations"


def contracts_dir() -> Path:
    return project_root() / "contracts"
