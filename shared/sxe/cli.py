"""The `sxe` command line. Each subcommand lives in its own module under `sxe.commands`.

Exit status: 0 on success (quarantined records included), 2 for an unusable
argument or setting, 3 when the database cannot be reached, 1 for any other
failure and for work done only in part, such as an import whose file could not
be read to the end. Errors print one line to stderr; secrets and contact data never appear.
With `--json`, an error also prints one JSON object on stdout,
`{"error": {"type": ..., "message": ...}}`, so a script that reads stdout gets a
document on failure too.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from sxe import __version__
from sxe.commands import register_all
from sxe.errors import DatabaseUnavailable, SxeError, UsageError
from sxe.logs import configure

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
# The status of a process ended by SIGPIPE, as shells report it for a reader that went away.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:
            # Output still buffered fails here, where it can be handled, and not at exit.
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader of stdout went away, as `head` does, so nothing more can be shown. Python
        # would report the pipe again when it flushes stdout at exit, unless stdout leads nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = _parse(arguments)
    configure(args.log_level)
    _exit_on_sigterm()
    try:
        return int(args.handler(args))
    except UsageError as exc:
        return _report_error(args, exc, EXIT_USAGE)
    except DatabaseUnavailable as exc:
        return _report_error(args, exc, EXIT_DATABASE)
    except SxeError as exc:
        return _report_error(args, exc, EXIT_FAILURE)
    except Exception as exc:
        if not getattr(args, "json", False):
            raise
        # An unexpected error keeps its traceback on stderr. Its message is left out of
        # stdout, because only the messages of SxeError are written without personal data.
        traceback.print_exc()
        _print_json_error(type(exc).__name__, "unexpected error; the traceback is on stderr")
        return EXIT_FAILURE


def _parse(arguments: list[str]) -> argparse.Namespace:
    """Parse the command line; on an invalid argument print argparse's usage and error, and exit with status 2.

    With `--json` among the arguments the error is also printed as JSON on stdout.
    NOTE: an abbreviated `--json`, such as `--js`, is not recognised at this point.
    """
    try:
        args, unknown = build_parser().parse_known_args(arguments)
        if unknown:
            _reject_unknown(args.command_parser, unknown)
    except _InvalidArguments as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
        if "--json" in arguments:
            _print_json_error(UsageError.__name__, exc.message)
        raise SystemExit(EXIT_USAGE) from None
    return args


def _report_error(args: argparse.Namespace, error: SxeError, status: int) -> int:
    """Print `error` on stderr, and with `--json` as a JSON object on stdout; return `status`."""
    print(f"sxe: error: {error}", file=sys.stderr)
    if getattr(args, "json", False):
        _print_json_error(type(error).__name__, str(error))
    return status


def _print_json_error(error_type: str, message: str) -> None:
    print(json.dumps({"error": {"type": error_type, "message": message}}, indent=2))


def _exit_on_sigterm() -> None:
    """Make SIGTERM end the command as Ctrl-C does, through SystemExit.

    Python's default SIGTERM skips atexit handlers, and the embedded PostgreSQL server
    stops in one, so without this `kill` on `sxe serve` or `sxe run` would leave the
    server running. A handler set by the caller is kept.
    """
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class _InvalidArguments(Exception):
    """An argparse error of `parser`, raised instead of exiting so that `main` can print it as JSON too."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that raises _InvalidArguments where argparse prints the error and exits.

    Subcommand parsers are of the same class, because `add_subparsers` creates them
    with the class of their parent.
    """

    def error(self, message: str) -> NoReturn:
        raise _InvalidArguments(self, message)


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="sxe",
        description="Social XPress Engine: audience files in, lead cards out.",
        epilog="Settings come from SXE_* environment variables, such as SXE_DATABASE_URL, SXE_STATE_DIR and "
        "SXE_POOL_BUDGET_CREDITS; the README lists them. Exit status: 0 on success (also when records were "
        f"quarantined), {EXIT_FAILURE} when a command failed or did part of its work (sxe import and sxe run "
        f"after a file error, with the readable records stored), {EXIT_USAGE} for an unusable argument, "
        f"{EXIT_DATABASE} when the database cannot be reached. With --json, an error is also printed on stdout "
        'as {"error": {"type": ..., "message": ...}}.',
    )
    parser.add_argument("--version", action="version", version=f"sxe {__version__}")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="JSON log lines on stderr at this level and above (default WARNING)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    register_all(commands)
    for command_parser in commands.choices.values():
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def _reject_unknown(command_parser: argparse.ArgumentParser, unknown: list[str]) -> None:
    """Exit with the command's own usage line, so the message shows the options the command takes."""
    message = f"unrecognized arguments: {' '.join(unknown)}"
    if "--log-level" in unknown or "--version" in unknown:
        command = command_parser.prog.removeprefix("sxe ")
        message += f"; --log-level and --version go before the command, as in: sxe --log-level INFO {command} ..."
    command_parser.error(message)


if __name__ == "__main__":
    sys.exit(main())
