"""Error messages name the database server without its credentials."""

from __future__ import annotations

import pytest

from sxe.db import describe_url


@pytest.mark.parametrize(
    ("url", "described"),
    [
        ("postgresql://sxe:hunter2@db.example:25060/sxe?sslmode=require", "db.example:25060/sxe"),
        ("postgresql:///sxe?host=/tmp/sock", "local socket/sxe"),
        ("host=/tmp/sock port=5432 user=sxe password=hunter2 dbname=sxe", "/tmp/sock:5432/sxe"),
        ("host=db.example user=sxe password='hunter 2' dbname=sxe", "db.example/sxe"),
        ("password=hunter2 not a conninfo '", "the configured server"),
    ],
)
def test_describe_url_leaves_out_credentials(url: str, described: str) -> None:
    text = describe_url(url)

    assert text == described
    assert "hunter" not in text
    assert "sxe:" not in text
