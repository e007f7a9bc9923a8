"""`sxe serve`: every function of project.yml, its cron triggers, signed downloads and health, locally."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from sxe.compliance.revocation import RevocationCheck
from sxe.config import load_settings
from sxe.db import database_url
from sxe.handoff.storage import signing_secret
from sxe.handoff.store import LocalObjectStore
from sxe.paths import project_root
from sxe.runtime.project import load_project
from sxe.runtime.server import DEFAULT_NAMESPACE, WEB_PREFIX, LocalServer


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve", help="serve the web functions, cron triggers, signed downloads and health checks locally"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.add_argument("--project", type=Path, help="project folder holding project.yml (default: this checkout)")
    parser.add_argument(
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help=f"namespace segment of the function URLs (default {DEFAULT_NAMESPACE})",
    )
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    project = load_project((args.project or project_root()).resolve())
    server = LocalServer(
        project,
        LocalObjectStore(settings.objects_dir),
        signing_secret(settings),
        namespace=args.namespace,
        is_revoked=RevocationCheck(database_url(settings)),
    )
    url = server.start(args.host, args.port)
    print(f"serving on {url} (Ctrl-C stops)")
    for function in project.functions:
        if function.web is not False:
            print(f"  {function.path:<20} {url}{WEB_PREFIX}{args.namespace}/{function.path}")
        for trigger in function.triggers:
            print(f"  {function.path:<20} cron {trigger.cron!r} ({trigger.name})")
    print(f"  downloads            {url}/download/<key>")
    print(f"  health               {url}/health/live, {url}/health/ready, {url}/health")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
