"""Whether an object key belongs to a revoked bundle, for servers that hand out bundle files."""

from __future__ import annotations

from sxe.db import connect, sql, transaction


class RevocationCheck:
    """Look a key up in `ops.bundles` as sxe_api, on a fresh connection per call.

    A connection per request keeps the threaded download server free of shared
    connection state. A database failure raises DatabaseUnavailable, so the server
    fails closed instead of serving a bundle it cannot check.
    """

    def __init__(self, url: str) -> None:
        self._url = url

    def __call__(self, key: str) -> bool:
        with connect(self._url, autocommit=True) as conn, transaction(conn, role="sxe_api"):
            return conn.execute(sql("bundles_key_revoked"), {"key": key}).fetchone() is not None
