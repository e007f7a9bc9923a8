"""The `sxe` command line. Each subcommand lives in its own module under `sxe.commands`.

Exit status: 0 on success (quarantined records included), 2 for an unusable
argument or setting, 3 when the database cannot be reached, 1 for any other
failure. Errors print one line to stderr; secrets and contact data never appear.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from sxe import __version__
from sxe.commands import register_all
from sxe.errors import DatabaseUnavailable, SxeError, UsageError
from sxe.logs import configure

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3


def main(argv: Sequence[str] | None = None) -> int:
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        _reject_unknown(args.command_parser, unknown)
    configure(args.log_level)
    _exit_on_sigterm()
    try:
        return int(args.handler(args))
    except UsageError as exc:
        print(f"sxe: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnavailable as exc:
        print(f"sxe: error: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except SxeError as exc:
        print(f"sxe: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sxe",
        description="Social XPress Engine: audience files in, lead cards out.",
        epilog="Settings come from SXE_* environment variables, such as SXE_DATABASE_URL, SXE_STATE_DIR and "
        "SXE_POOL_BUDGET_CREDITS; the README lists them. Exit status: 0 on success (also when records were "
        f"quarantined), {EXIT_FAILURE} when a command failed, {EXIT_USAGE} for an unusable argument, "
        f"{EXIT_DATABASE} when the database cannot be reached.",
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
