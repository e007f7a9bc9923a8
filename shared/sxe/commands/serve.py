"""`sxe serve`: the local download server for signed bundle URLs."""

from __future__ import annotations

import argparse
from typing import Any

from sxe.config import load_settings
from sxe.handoff.download_server import DownloadServer
from sxe.handoff.storage import signing_secret
from sxe.handoff.store import LocalObjectStore


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="serve signed bundle downloads from the local object store")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    server = DownloadServer((args.host, args.port), LocalObjectStore(settings.objects_dir), signing_secret(settings))
    print(f"serving signed downloads from {settings.objects_dir} on http://{args.host}:{args.port} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
