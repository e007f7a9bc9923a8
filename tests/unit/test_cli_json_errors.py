"""The JSON error object that `--json` prints on stdout when a command stops with an error."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from sxe.cli import main
from sxe.commands import import_file
from sxe.errors import DatabaseUnavailable, StateTransitionError, SxeError, UsageError


def fail_import_with(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make the `sxe import` handler raise `error` without touching a database."""

    def failing_import(args: argparse.Namespace) -> int:
        raise error

    monkeypatch.setattr(import_file, "_import", failing_import)


def json_error(stdout: str) -> dict[str, Any]:
    document = json.loads(stdout)
    assert list(document) == ["error"]
    return dict(document["error"])


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UsageError("import source exports is a directory; pass a file in it"), 2),
        (DatabaseUnavailable("cannot reach the database at 127.0.0.1:5432; start it"), 3),
        (StateTransitionError("card 7 is not in state tagged; reload it"), 1),
    ],
)
def test_json_error_keeps_exit_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: SxeError, status: int
) -> None:
    fail_import_with(monkeypatch, error)

    returned = main(["import", "exports", "--json"])

    captured = capsys.readouterr()
    assert returned == status
    assert json_error(captured.out) == {"type": type(error).__name__, "message": str(error)}
    assert captured.err == f"sxe: error: {error}\n"


def test_error_without_json_prints_nothing_on_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fail_import_with(monkeypatch, UsageError("import source exports is a directory; pass a file in it"))

    returned = main(["import", "exports"])

    captured = capsys.readouterr()
    assert returned == 2
    assert captured.out == ""
    assert "is a directory" in captured.err


def test_invalid_argument_with_json_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["import", "fans.csv", "--platform", "myspace", "--json"])

    captured = capsys.readouterr()
    assert raised.value.code == 2
    error = json_error(captured.out)
    assert error["type"] == "UsageError"
    assert "invalid choice: 'myspace'" in error["message"]
    assert captured.err.startswith("usage: sxe import")
    assert "sxe import: error: argument --platform: invalid choice: 'myspace'" in captured.err


def test_unknown_option_with_json_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["import", "fans.csv", "--json", "--fields", "emails"])

    assert raised.value.code == 2
    assert json_error(capsys.readouterr().out)["message"] == "unrecognized arguments: --fields emails"


def test_invalid_argument_without_json_prints_nothing_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["import", "fans.csv", "--platform", "myspace"])

    captured = capsys.readouterr()
    assert raised.value.code == 2
    assert captured.out == ""
    assert "invalid choice: 'myspace'" in captured.err


def test_unexpected_error_with_json_hides_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fail_import_with(monkeypatch, RuntimeError("row for ana@example.com broke"))

    returned = main(["import", "exports", "--json"])

    captured = capsys.readouterr()
    assert returned == 1
    assert json_error(captured.out) == {
        "type": "RuntimeError",
        "message": "unexpected error; the traceback is on stderr",
    }
    assert "Traceback" in captured.err


def test_unexpected_error_without_json_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    fail_import_with(monkeypatch, RuntimeError("broken"))

    with pytest.raises(RuntimeError):
        main(["import", "exports"])
