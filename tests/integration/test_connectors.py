"""Pull connectors replaying the platforms' documented responses through httpx.MockTransport, on PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest

from sxe import jobs
from sxe.connectors import ConnectorSettings, PullRequest, apify_webhook, get_connector, rate_limit_wait, run_pull
from sxe.connectors import platforms as connector_platforms
from sxe.connectors.poll import enqueue_pull, poll
from sxe.errors import PermanentProviderError, UsageError

SETTINGS = ConnectorSettings(
    x_bearer_token="x-test-token",
    threads_access_token="threads-test-token",
    tiktok_research_token="tiktok-test-token",
    apify_token="apify-test-token",
)

Handler = Callable[[httpx.Request], httpx.Response]


def x_user(number: int) -> dict[str, Any]:
    return {
        "id": str(2_000_000 + number),
        "username": f"handle{number}",
        "name": f"Person {number}",
        "description": "Founder. Bookings: +44 20 7946 0958",
        "public_metrics": {"followers_count": 1000 + number, "following_count": 10, "tweet_count": 5},
    }


def x_lookup(request: httpx.Request) -> httpx.Response:
    """GET /2/users/by: users for known handles, a not-found error for handles starting with 'gone'."""
    names = parse_qs(urlsplit(str(request.url)).query)["usernames"][0].split(",")
    data = [x_user(int(name.removeprefix("handle"))) for name in names if name.startswith("handle")]
    errors = [
        {
            "value": name,
            "detail": f"Could not find user with usernames: [{name}].",
            "title": "Not Found Error",
            "resource_type": "user",
            "parameter": "usernames",
            "resource_id": name,
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
        for name in names
        if name.startswith("gone")
    ]
    body: dict[str, Any] = {"data": data}
    if errors:
        body["errors"] = errors
    headers = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "299", "x-rate-limit-reset": "0"}
    return httpx.Response(200, json=body, headers=headers)


class Recorder:
    """A MockTransport handler that records each request and responds with a list of handlers in turn."""

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = list(handlers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return handler(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def pull(conn: psycopg.Connection[Any], source: str, recorder: Recorder, *targets: str, **options: Any) -> Any:
    connector = get_connector(source, SETTINGS)
    by_id = options.pop("by_id", False)
    format_name = options.pop("format_name", None)
    request = PullRequest(tuple(targets), by_id=by_id, format_name=format_name)
    with recorder.client() as http:
        return run_pull(conn, connector, request, http=http, pool="default", sleep=lambda seconds: None, **options)


def count(conn: psycopg.Connection[Any], table: str) -> int:
    return int(conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"])


def unblock(conn: psycopg.Connection[Any], provider: str) -> None:
    """Move the bucket past its block and refill it, as time passing would."""
    conn.execute(
        "UPDATE ops.provider_buckets SET blocked_until = NULL, tokens = capacity WHERE provider = %s", (provider,)
    )


# X API v2 user lookup


def test_x_lookup_sends_at_most_100_handles(conn: psycopg.Connection[Any]) -> None:
    recorder = Recorder(x_lookup)
    handles = [f"handle{number}" for number in range(150)]

    result = pull(conn, "x", recorder, *handles)

    sizes = [len(parse_qs(urlsplit(str(r.url)).query)["usernames"][0].split(",")) for r in recorder.requests]
    assert sizes == [100, 50]
    assert recorder.requests[0].url.path == "/2/users/by"
    assert recorder.requests[0].headers["authorization"] == "Bearer x-test-token"
    assert result.done
    assert result.pages == 2
    assert result.accepted == 150
    assert count(conn, "social.profiles") == 150


def test_x_lookup_by_ids(conn: psycopg.Connection[Any]) -> None:
    def by_ids(request: httpx.Request) -> httpx.Response:
        ids = parse_qs(urlsplit(str(request.url)).query)["ids"][0].split(",")
        return httpx.Response(200, json={"data": [x_user(int(value) - 2_000_000) for value in ids]})

    recorder = Recorder(by_ids)

    result = pull(conn, "x", recorder, "2000001", "2000002", by_id=True)

    assert recorder.requests[0].url.path == "/2/users"
    assert result.accepted == 2


def test_x_partial_errors_are_quarantined(conn: psycopg.Connection[Any]) -> None:
    recorder = Recorder(x_lookup)

    result = pull(conn, "x", recorder, "handle1", "gone_user", "handle2")

    assert result.accepted == 2
    assert result.quarantined == 1
    [row] = conn.execute("SELECT kind, reason FROM ops.quarantine").fetchall()
    assert row["kind"] == "api_error"
    assert "gone_user" in row["reason"]


def test_x_pull_keeps_source_attribution(conn: psycopg.Connection[Any]) -> None:
    result = pull(conn, "x", Recorder(x_lookup), "handle7")

    [row] = conn.execute("SELECT source_name, run_id, source_url FROM social.profile_observations").fetchall()
    assert row["source_name"] == "x-api"
    assert row["run_id"] == result.run_id
    assert row["source_url"].startswith("https://api.x.com/2/users/by?usernames=handle7")
    assert "test-token" not in row["source_url"]


def test_x_pulled_bio_phone_is_redacted(conn: psycopg.Connection[Any]) -> None:
    pull(conn, "x", Recorder(x_lookup), "handle7")

    [row] = conn.execute("SELECT bio, bio_has_phone FROM social.profiles").fetchall()
    assert row == {"bio": "Founder. Bookings: [phone]", "bio_has_phone": True}


def test_x_401_names_the_credential(conn: psycopg.Connection[Any]) -> None:
    unauthorized = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    recorder = Recorder(lambda request: httpx.Response(401, json=unauthorized))

    with pytest.raises(PermanentProviderError) as error:
        pull(conn, "x", recorder, "handle1")

    assert "credentials" in str(error.value)
    assert "x-test-token" not in str(error.value)
    assert count(conn, "social.profiles") == 0


def test_missing_token_is_usage_error(conn: psycopg.Connection[Any]) -> None:
    connector = get_connector("x", ConnectorSettings(x_bearer_token=None))

    with pytest.raises(UsageError) as error, httpx.Client(transport=httpx.MockTransport(x_lookup)) as http:
        run_pull(conn, connector, PullRequest(("handle1",)), http=http, pool="default")

    assert "SXE_X_BEARER_TOKEN" in str(error.value)


# Rate limits and resuming


def too_many_requests(reset_in: int) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
        headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(time.time()) + reset_in)}
        return httpx.Response(429, json=body, headers=headers)

    return answer


def test_429_stops_pull_and_keeps_cursor(conn: psycopg.Connection[Any]) -> None:
    handles = [f"handle{number}" for number in range(150)]
    recorder = Recorder(x_lookup, too_many_requests(900))

    stopped = pull(conn, "x", recorder, *handles, max_wait_seconds=0)

    assert not stopped.done
    assert stopped.pages == 1
    assert stopped.rate_limited_seconds is not None
    assert 800 < stopped.rate_limited_seconds <= 900
    bucket = conn.execute("SELECT blocked_until > now() + interval '10 minutes' AS blocked FROM ops.provider_buckets")
    assert bucket.fetchone()["blocked"]
    cursor = conn.execute("SELECT cursor, done FROM ops.pull_cursors").fetchone()
    assert cursor == {"cursor": {"chunk": 1}, "done": False}


def test_resumed_pull_fetches_only_remaining_pages(conn: psycopg.Connection[Any]) -> None:
    handles = [f"handle{number}" for number in range(150)]
    pull(conn, "x", Recorder(x_lookup, too_many_requests(900)), *handles, max_wait_seconds=0)
    unblock(conn, "x-api")
    recorder = Recorder(x_lookup)

    resumed = pull(conn, "x", recorder, *handles)

    assert resumed.resumed
    assert resumed.done
    assert len(recorder.requests) == 1
    assert parse_qs(urlsplit(str(recorder.requests[0].url)).query)["usernames"][0].startswith("handle100,")
    assert count(conn, "social.profiles") == 150


def test_429_inside_wait_bound_is_retried(conn: psycopg.Connection[Any]) -> None:
    recorder = Recorder(too_many_requests(5), x_lookup)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        unblock(conn, "x-api")

    connector = get_connector("x", SETTINGS)
    with recorder.client() as http:
        result = run_pull(
            conn, connector, PullRequest(("handle1",)), http=http, pool="default", sleep=sleep, max_wait_seconds=30
        )

    assert result.done
    assert result.accepted == 1
    assert len(recorder.requests) == 2
    assert len(waits) == 1
    assert 1 <= waits[0] <= 5


def test_finished_pull_starts_over_when_run_again(conn: psycopg.Connection[Any]) -> None:
    pull(conn, "x", Recorder(x_lookup), "handle1", "handle2")
    recorder = Recorder(x_lookup)

    again = pull(conn, "x", recorder, "handle1", "handle2")

    assert not again.resumed
    assert len(recorder.requests) == 1
    assert again.duplicates == 2


def test_bucket_tokens_pace_requests(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "INSERT INTO ops.provider_buckets (provider, capacity, refill_per_second, tokens) VALUES ('x-api', 1, 0.001, 0)"
    )
    recorder = Recorder(x_lookup)

    result = pull(conn, "x", recorder, "handle1", max_wait_seconds=0)

    assert not result.done
    assert recorder.requests == []
    assert result.rate_limited_seconds is not None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-rate-limit-reset": str(1_000_000_000 + 120)}, 120.0),
        ({"x-ratelimit-reset": "30"}, 30.0),
        ({"retry-after": "45"}, 45.0),
        ({"retry-after": formatdate(1_000_000_000 + 90, usegmt=True)}, 90.0),
        ({"retry-after": "soon"}, 60.0),
        ({}, 60.0),
        ({"x-rate-limit-reset": str(1_000_000_000 - 50)}, 1.0),
    ],
)
def test_rate_limit_wait_reads_headers(headers: dict[str, str], expected: float) -> None:
    assert rate_limit_wait(httpx.Headers(headers), now=1_000_000_000) == pytest.approx(expected)


# Threads and TikTok


def test_threads_lookup_one_request_per_handle(conn: psycopg.Connection[Any]) -> None:
    def lookup(request: httpx.Request) -> httpx.Response:
        username = parse_qs(urlsplit(str(request.url)).query)["username"][0]
        if username == "nobody_here":
            error = {"message": "Invalid user", "type": "THApiException", "code": 100, "error_subcode": 2207013}
            return httpx.Response(400, json={"error": error})
        profile = {"username": username, "name": "Sam", "biography": "Coach", "is_verified": False}
        return httpx.Response(200, json={**profile, "follower_count": 1200, "likes_count": 40})

    recorder = Recorder(lookup)

    result = pull(conn, "threads", recorder, "trailmix.coach", "nobody_here")

    assert [r.url.path for r in recorder.requests] == ["/v1.0/profile_lookup"] * 2
    assert recorder.requests[0].headers["authorization"] == "Bearer threads-test-token"
    assert "access_token" not in str(recorder.requests[0].url)
    assert result.accepted == 1
    assert result.quarantined == 1


def test_tiktok_research_adds_queried_username(conn: psycopg.Connection[Any]) -> None:
    def user_info(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"username": "saltandcrumb"}
        data = {"display_name": "Salt & Crumb", "bio_description": "Sourdough", "is_verified": False}
        counts = {"follower_count": 317400, "following_count": 212, "likes_count": 9100000, "video_count": 480}
        error = {"code": "ok", "message": "", "log_id": "20260101000000ABC"}
        return httpx.Response(200, json={"data": {**data, **counts}, "error": error})

    recorder = Recorder(user_info)

    result = pull(conn, "tiktok", recorder, "saltandcrumb")

    assert recorder.requests[0].method == "POST"
    assert recorder.requests[0].url.path == "/v2/research/user/info/"
    assert result.accepted == 1
    [row] = conn.execute("SELECT handle, followers FROM social.profiles").fetchall()
    assert row == {"handle": "saltandcrumb", "followers": 317400}


def test_tiktok_research_rate_limit_is_429(conn: psycopg.Connection[Any]) -> None:
    error = {"code": "rate_limit_exceeded", "message": "API rate limit exceeded", "log_id": "x"}
    recorder = Recorder(lambda request: httpx.Response(429, json={"data": {}, "error": error}))

    result = pull(conn, "tiktok", recorder, "saltandcrumb", max_wait_seconds=0)

    assert not result.done
    assert result.rate_limited_seconds == pytest.approx(60.0, abs=1.0)


# Apify datasets


def instagram_item(number: int) -> dict[str, Any]:
    return {"id": str(5_500_000_000 + number), "username": f"ig{number}", "followersCount": number, "fullName": "IG"}


def apify_pages(items: list[dict[str, Any]], page_size: int) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query)
        offset = int(query["offset"][0])
        assert int(query["limit"][0]) == page_size
        page = items[offset : offset + page_size]
        headers = {
            "x-apify-pagination-offset": str(offset),
            "x-apify-pagination-limit": str(page_size),
            "x-apify-pagination-count": str(len(page)),
            "x-apify-pagination-total": str(len(items)),
        }
        return httpx.Response(200, json=page, headers=headers)

    return answer


def test_apify_dataset_pages_until_total(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connector_platforms, "APIFY_PAGE_LIMIT", 2)
    items = [instagram_item(number) for number in range(4)] + [
        {"error": "not_found", "inputUrl": "https://www.instagram.com/x"}
    ]
    recorder = Recorder(apify_pages(items, 2))

    result = pull(conn, "apify", recorder, "dataset123")

    offsets = [parse_qs(urlsplit(str(r.url)).query)["offset"][0] for r in recorder.requests]
    assert offsets == ["0", "2", "4"]
    assert recorder.requests[0].url.path == "/v2/datasets/dataset123/items"
    assert result.done
    assert result.accepted == 4
    assert result.quarantined == 1
    assert conn.execute("SELECT DISTINCT platform FROM social.profiles").fetchone()["platform"] == "instagram"


def test_apify_pull_resumes_after_crash(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connector_platforms, "APIFY_PAGE_LIMIT", 2)
    items = [instagram_item(number) for number in range(5)]
    pages = apify_pages(items, 2)

    def crash(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection reset by peer")

    with pytest.raises(httpx.ConnectError):
        pull(conn, "apify", Recorder(pages, crash), "dataset123")
    recorder = Recorder(pages)
    resumed = pull(conn, "apify", recorder, "dataset123")

    offsets = [parse_qs(urlsplit(str(r.url)).query)["offset"][0] for r in recorder.requests]
    assert offsets == ["2", "4"]
    assert resumed.resumed
    assert count(conn, "social.profiles") == 5


def test_apify_missing_dataset_is_usage_error(conn: psycopg.Connection[Any]) -> None:
    recorder = Recorder(lambda request: httpx.Response(404, json={"error": {"type": "record-not-found"}}))

    with pytest.raises(UsageError) as error:
        pull(conn, "apify", recorder, "nope")

    assert "'nope'" in str(error.value)


# The poll function


def test_poll_runs_queued_pulls(conn: psycopg.Connection[Any]) -> None:
    enqueue_pull(conn, "x", ["handle1", "handle2"])
    enqueue_pull(conn, "x", ["handle1", "handle2"])
    recorder = Recorder(x_lookup)

    with recorder.client() as http:
        result = poll(conn, http=http, pool="default", settings=SETTINGS)

    assert result.jobs == 1
    assert result.completed == 1
    assert result.records == 2
    assert jobs.counts(conn, "pull") == {"succeeded": 1}
    assert count(conn, "social.profiles") == 2


def test_poll_ingests_for_job_pool(conn: psycopg.Connection[Any]) -> None:
    enqueue_pull(conn, "x", ["handle1"], pool="studios")
    enqueue_pull(conn, "x", ["handle2"])

    with Recorder(x_lookup).client() as http:
        result = poll(conn, http=http, pool="served", settings=SETTINGS)

    assert result.completed == 2
    pools = {row["pool"] for row in conn.execute("SELECT pool FROM social.ingest_batches")}
    assert pools == {"studios", "served"}


def test_enqueue_pull_per_pool(conn: psycopg.Connection[Any]) -> None:
    first = enqueue_pull(conn, "x", ["handle1"], pool="studios")
    other_pool = enqueue_pull(conn, "x", ["handle1"], pool="galleries")
    repeat = enqueue_pull(conn, "x", ["handle1"], pool="studios")

    assert first is not None
    assert other_pool is not None
    assert repeat is None


def test_poll_defers_rate_limited_pull(conn: psycopg.Connection[Any]) -> None:
    enqueue_pull(conn, "x", ["handle1"])

    with Recorder(too_many_requests(600)).client() as http:
        result = poll(conn, http=http, pool="default", settings=SETTINGS)

    assert result.deferred == 1
    row = conn.execute("SELECT state, attempts, run_after > now() + interval '5 minutes' AS later FROM ops.jobs")
    assert row.fetchone() == {"state": "queued", "attempts": 0, "later": True}


def test_poll_fails_job_on_rejected_credentials(conn: psycopg.Connection[Any]) -> None:
    enqueue_pull(conn, "x", ["handle1"])

    with Recorder(lambda request: httpx.Response(401, json={"title": "Unauthorized"})).client() as http:
        result = poll(conn, http=http, pool="default", settings=SETTINGS)

    assert result.failed == 1
    assert jobs.counts(conn, "pull") == {"dead": 1}


# The Apify run-finished webhook


def apify_event(body: dict[str, Any], token: str = "apify-hook-token", query: str = "") -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    http = {"body": json.dumps(body), "headers": headers, "method": "POST", "path": "", "queryString": query}
    return {"http": {**http, "isBase64Encoded": False}}


RUN_SUCCEEDED = {
    "userId": "abc",
    "createdAt": "2026-12-04T10:00:00.000Z",
    "eventType": "ACTOR.RUN.SUCCEEDED",
    "eventData": {"actorId": "act1", "actorRunId": "run1"},
    "resource": {"id": "run1", "status": "SUCCEEDED", "defaultDatasetId": "dataset123"},
}


@pytest.fixture
def apify_hook(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Any) -> str:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_APIFY_WEBHOOK_TOKEN", "apify-hook-token")
    return database_url


def test_apify_run_finished_queues_pull(apify_hook: str) -> None:
    first = apify_webhook.handle(apify_event(RUN_SUCCEEDED, query="format=instagram-scraper"))
    again = apify_webhook.handle(apify_event(RUN_SUCCEEDED))

    assert first["statusCode"] == 202
    assert again["statusCode"] == 200
    with psycopg.connect(apify_hook) as conn:
        [payload] = conn.execute("SELECT payload FROM ops.jobs WHERE queue = 'pull'").fetchall()
    assert payload[0] == {
        "source": "apify",
        "targets": ["dataset123"],
        "by_id": False,
        "format": "instagram-scraper",
        "pool": "default",
    }


def test_apify_wrong_token_is_401(apify_hook: str) -> None:
    response = apify_webhook.handle(apify_event(RUN_SUCCEEDED, token="guess"))

    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"


def test_apify_failed_run_queues_nothing(apify_hook: str) -> None:
    response = apify_webhook.handle(apify_event({**RUN_SUCCEEDED, "eventType": "ACTOR.RUN.FAILED"}))

    assert response["statusCode"] == 200
    with psycopg.connect(apify_hook) as conn:
        assert conn.execute("SELECT count(*) FROM ops.jobs").fetchone() == (0,)


def test_apify_event_without_dataset_is_400(apify_hook: str) -> None:
    response = apify_webhook.handle(apify_event({**RUN_SUCCEEDED, "resource": {"id": "run1"}}))

    assert response["statusCode"] == 400
    assert "defaultDatasetId" in json.loads(response["body"])["detail"]
