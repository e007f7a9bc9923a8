"""The command line when the reader of its output goes away, as `sxe ... | head` does."""

from __future__ import annotations

import os
import subprocess
import sys

from sxe.cli import EXIT_BROKEN_PIPE

RUN_CLI = "from sxe.cli import main; raise SystemExit(main())"
# A server that cannot be reached makes `status --json` print its error object at once.
NO_SERVER = "postgresql://sxe@localhost/none?host=/nonexistent-socket-folder"


def test_closed_pipe_ends_quietly() -> None:
    reader, writer = os.pipe()
    os.close(reader)
    environment = {**os.environ, "SXE_DATABASE_URL": NO_SERVER}
    try:
        finished = subprocess.run(
            [sys.executable, "-c", RUN_CLI, "status", "--json"],
            stdout=writer,
            stderr=subprocess.PIPE,
            env=environment,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)

    assert finished.returncode == EXIT_BROKEN_PIPE
    assert b"Traceback" not in finished.stderr
    assert b"BrokenPipeError" not in finished.stderr
