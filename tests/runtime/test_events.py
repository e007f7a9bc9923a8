"""DigitalOcean event shapes, context and responses."""

from __future__ import annotations

import base64
import time
from types import SimpleNamespace

import pytest

from sxe.errors import UsageError
from sxe.runtime.events import as_context, local_context, parse_event, problem, response


def test_parsed_web_event_keeps_params() -> None:
    event = {"check": "ready", "count": 3, "http": {"headers": {"X-Request-Id": "r-1"}, "method": "get", "path": ""}}

    request = parse_event(event)

    assert request.kind == "parsed"
    assert request.params == {"check": "ready", "count": 3}
    assert request.method == "GET"
    assert request.header("x-request-id") == "r-1"
    assert request.query["count"] == "3"


def test_raw_event_keeps_body_bytes() -> None:
    body = '{"a": 1}'
    event = {
        "http": {
            "body": body,
            "headers": {"content-type": "application/json", "x-signature": "abc"},
            "isBase64Encoded": False,
            "method": "POST",
            "path": "/hooks",
            "queryString": "source=x&empty=",
        }
    }

    request = parse_event(event)

    assert request.kind == "raw"
    assert request.body == body.encode()
    assert request.json() == {"a": 1}
    assert request.query == {"source": "x", "empty": ""}
    assert request.path == "/hooks"


def test_raw_base64_body_is_decoded() -> None:
    payload = bytes(range(256))
    event = {"http": {"body": base64.b64encode(payload).decode(), "isBase64Encoded": True, "method": "POST"}}

    assert parse_event(event).body == payload


def test_raw_bad_base64_is_rejected() -> None:
    event = {"http": {"body": "not base64!", "isBase64Encoded": True, "method": "POST"}}

    with pytest.raises(UsageError, match="not valid base64"):
        parse_event(event)


def test_scheduled_event_has_no_http() -> None:
    request = parse_event({"trigger": "every-5m", "tasks": ["alarms"]})

    assert request.kind == "scheduled"
    assert request.params == {"trigger": "every-5m", "tasks": ["alarms"]}
    assert request.method is None


def test_non_object_event_is_rejected() -> None:
    with pytest.raises(UsageError, match="must be a JSON object"):
        parse_event(["a"])


def test_raw_body_that_is_not_json_is_named() -> None:
    request = parse_event({"http": {"body": "<xml/>", "method": "POST"}})

    with pytest.raises(UsageError, match="not UTF-8 JSON"):
        request.json()


def test_local_context_counts_down() -> None:
    context = local_context("ns", "ops", "health", 30_000)

    assert context.function_name == "/ns/ops/health"
    assert 29_000 < context.get_remaining_time_in_millis() <= 30_000


def test_platform_context_is_read() -> None:
    deadline = int(time.time() * 1000) + 5_000
    platform = SimpleNamespace(
        activation_id="a1",
        function_name="/fn-1/ops/health",
        namespace="fn-1",
        deadline=deadline,
        request_id="r1",
        api_host="https://faas",
        api_key="k",
        function_version="0.0.3",
    )

    context = as_context(platform, fallback_name="ops/health")

    assert context.activation_id == "a1"
    assert context.function_version == "0.0.3"
    assert 0 < context.get_remaining_time_in_millis() <= 5_000
    assert "api_key" not in repr(context)


def test_passed_deadline_leaves_zero() -> None:
    platform = SimpleNamespace(activation_id="a", deadline=int(time.time() * 1000) - 10)

    assert as_context(platform, fallback_name="x/y").get_remaining_time_in_millis() == 0


def test_response_shapes() -> None:
    assert response(200, {"a": 1}) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": {"a": 1},
    }
    assert response(204, "") == {"statusCode": 204, "headers": {}, "body": ""}
    assert problem(400, "bad request", "x")["headers"] == {"Content-Type": "application/problem+json"}
