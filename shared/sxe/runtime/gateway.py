"""The functions-framework target of `sxe serve`: one HTTP function that hands each request to the server.

functions-framework loads this file by path and calls `gateway(request)` for every
route. The LocalServer that owns the app is kept in the app's config, so several
servers can run in one process (as the tests do).
"""

from __future__ import annotations

from typing import Any

import flask

SERVER_KEY = "SXE_LOCAL_SERVER"


def gateway(request: flask.Request) -> Any:
    """Dispatch `request` to the LocalServer of the current app."""
    return flask.current_app.config[SERVER_KEY].dispatch(request)
