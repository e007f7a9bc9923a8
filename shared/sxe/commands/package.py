"""`sxe package`: stage lib/ and write every function's build.sh, .include and requirements.txt."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sxe.paths import project_root
from sxe.runtime.packaging import check_function_files, stage_lib, write_function_files


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "package", help="prepare the project for 'doctl serverless deploy': stage lib/ and write function build files"
    )
    parser.add_argument("--project", type=Path, help="project folder (default: the checkout holding the sxe package)")
    parser.add_argument(
        "--check", action="store_true", help="only report stale or missing build files; exit 1 when there are any"
    )
    parser.set_defaults(handler=_package)


def _package(args: argparse.Namespace) -> int:
    root = (args.project or project_root()).resolve()
    if args.check:
        problems = check_function_files(root)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0

    folders = write_function_files(root)
    lib = stage_lib(root)
    problems = check_function_files(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"wrote build files for {len(folders)} functions and staged {lib}")
    return 1 if problems else 0
