"""Named SQL statements, loaded from `sxe/sql/<name>.sql`."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def sql(name: str) -> str:
    """Return the text of the statement `name`; raise FileNotFoundError naming the file when missing."""
    path = resources.files("sxe").joinpath("sql", f"{name}.sql")
    if not path.is_file():
        raise FileNotFoundError(f"no SQL statement named {name!r}: expected shared/sxe/sql/{name}.sql")
    return path.read_text(encoding="utf-8")
