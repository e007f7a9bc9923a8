"""A loopback HTTP server that speaks Apollo's `POST /api/v1/people/match` and DealMachine's name search.

DealMachine's `POST /v1/enrichment/name` needs `Authorization: Bearer <api_key>` and
returns at most one invented person per name (see `simulated_dealmachine_people`).

Results are a pure function of the normalized name and domain, so two runs over the
same input match the same people. About 60% of names match. A match has an email
`first.last@<domain>` (`example.com` when no domain is given) with `email_status`
"verified" or "extrapolated". About half of the matches also have a 555 mobile
number, returned only when the request sets `reveal_phone_number=true`, as Apollo
reveals phones only on request. With a `webhook_url` as well, a match also carries a
`request_id`, as Apollo's does when phones follow by webhook. Misses return `{"person": null}`.

Credits follow Apollo's billing rule (1, plus 8 with a mobile, 0 on a miss) and are
reported in the `x-sxe-credits-used` header and the `credits_used` JSON key, which
the real API does not send. Tests can queue failures with `fail_next` and delays
with `hang_next`; a `FaultPlan` injects 429s, 5xx and timeouts at configured rates.
`served` counts the 200 responses per normalized request, `faults` the injected failures.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import threading
import unicodedata
from collections import Counter, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sxe.adapters.apollo import MATCH_PATH
from sxe.adapters.apollo_response import credits_for
from sxe.adapters.base import normalize_text
from sxe.adapters.dealmachine import NAME_PATH as DEALMACHINE_NAME_PATH
from sxe.adapters.faults import TIMEOUT, FaultPlan

CREDITS_HEADER = "x-sxe-credits-used"

_MATCH_PERCENT = 60
_SHUTDOWN_POLL_SECONDS = 0.05
_TITLES = ("Marketing Manager", "Head of Growth", "Founder", "Sales Director", "Creator Partnerships Lead")
_ERROR_TEXTS = {
    400: "Invalid request.",
    401: "Invalid access credentials.",
    403: "You do not have access to this endpoint.",
    404: "Not found.",
    422: "Invalid parameters.",
    429: (
        "The maximum number of api calls allowed for api/v1/people/match is 50 times per minute. "
        "Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."
    ),
}


@dataclass(frozen=True, slots=True)
class _InjectedFailure:
    status: int
    retry_after: float | str | None


class ProviderSimulator:
    """The simulated provider, serving on 127.0.0.1 from a daemon thread.

    Use it as a context manager or call `start()` and `stop()`. `api_key` is the
    only key accepted, and a request with another `x-api-key` gets HTTP 401.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        api_key: str | None = None,
        faults: FaultPlan | None = None,
        timeout_hang_seconds: float = 15.0,
    ) -> None:
        """`timeout_hang_seconds` is how long an injected timeout holds the request; make it exceed the client's."""
        self.api_key = api_key if api_key is not None else secrets.token_hex(16)
        self._port = port
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._seen: Counter[str] = Counter()
        self._served: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._plan = faults or FaultPlan()
        self._timeout_hang_seconds = timeout_hang_seconds
        self._failures: deque[_InjectedFailure] = deque()
        self._hangs: deque[float] = deque()
        self._stopping = threading.Event()
        self._server: _SimulatorServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The root URL, such as `http://127.0.0.1:50123`, to pass to the adapter as `base_url`."""
        if self._server is None:
            raise RuntimeError("ProviderSimulator is not running. Call start() or use it as a context manager.")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def calls(self) -> Counter[str]:
        """A copy of the request count per URL path, failed and injected requests included."""
        with self._lock:
            return Counter(self._calls)

    @property
    def served(self) -> Counter[str]:
        """A copy of the 200 responses per normalized request key (sorted lowercase query parameters)."""
        with self._lock:
            return Counter(self._served)

    @property
    def faults(self) -> Counter[str]:
        """A copy of the injected failures per kind ("429", "500", "timeout")."""
        with self._lock:
            return Counter(self._faults)

    def start(self) -> ProviderSimulator:
        """Bind 127.0.0.1, serve from a daemon thread and return self."""
        if self._server is not None:
            raise RuntimeError("ProviderSimulator is already running")
        self._stopping.clear()
        server = _SimulatorServer(("127.0.0.1", self._port), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
            name="sxe-provider-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake requests held by `hang_next`, and release the port. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def fail_next(self, status: int, count: int = 1, retry_after: float | str | None = None) -> None:
        """Fail the next `count` requests with HTTP `status` and an Apollo-style error body.

        `retry_after` becomes the `Retry-After` header: seconds, or an HTTP-date string.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status from 400 to 599, got {status}")
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        with self._lock:
            self._failures.extend(_InjectedFailure(status, retry_after) for _ in range(count))

    def hang_next(self, seconds: float) -> None:
        """Hold the next request for `seconds` before handling it normally. `stop()` ends the wait early."""
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds}")
        with self._lock:
            self._hangs.append(seconds)

    def __enter__(self) -> ProviderSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _count_call(self, path: str) -> None:
        """Count a call that no injected hang or failure applies to, such as a GET."""
        with self._lock:
            self._calls[path] += 1

    def _record_call(self, path: str) -> tuple[float | None, _InjectedFailure | None]:
        """Count the call and pop the hang and failure queued for it, if any."""
        with self._lock:
            self._calls[path] += 1
            hang = self._hangs.popleft() if self._hangs else None
            failure = self._failures.popleft() if self._failures else None
        return hang, failure

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _planned_fault(self, request_key: str) -> str | None:
        with self._lock:
            seen_before = self._seen[request_key]
            self._seen[request_key] += 1
            fault = self._plan.draw(request_key, seen_before)
            if fault is not None:
                self._faults[fault] += 1
        return fault

    def _count_served(self, request_key: str) -> None:
        with self._lock:
            self._served[request_key] += 1


class _SimulatorServer(ThreadingHTTPServer):
    """The HTTP server, linked to its simulator so handlers can reach the shared state."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: ProviderSimulator) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up, such as one that timed out during `hang_next`, and report other errors."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """One request. Never logs the request line, because its query contains names."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes. Without TCP_NODELAY, each keep-alive
    # response waits for the client's delayed ACK (about 40 ms on Linux).
    disable_nagle_algorithm = True
    server_version = "SxeProviderSimulator/1"

    def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        parts = urlsplit(self.path)
        body = self._read_body()
        simulator = self._simulator()
        hang, failure = simulator._record_call(parts.path)

        if hang is not None:
            simulator._wait(hang)
        if failure is not None:
            self._send_failure(failure)
            return
        if parts.path == DEALMACHINE_NAME_PATH:
            self._serve_dealmachine_name(body)
            return
        if parts.path != MATCH_PATH:
            self._send_json(404, {"error": _ERROR_TEXTS[404]})
            return
        if self.headers.get("x-api-key") != simulator.api_key:
            self._send_json(401, {"error": _ERROR_TEXTS[401]})
            return

        params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if not _has_person_name(params):
            self._send_json(422, {"error": "Provide name, or first_name and last_name, to match a person."})
            return
        key = request_key(params)
        fault = simulator._planned_fault(key)
        if fault == TIMEOUT:
            simulator._wait(simulator._timeout_hang_seconds)
            self.close_connection = True
            return
        if fault is not None:
            self._send_failure(_InjectedFailure(int(fault), 1 if fault == "429" else None))
            return
        simulator._count_served(key)
        self._send_match(params)

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        self._simulator()._count_call(urlsplit(self.path).path)
        self._send_json(404, {"error": _ERROR_TEXTS[404]})

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
        return

    def _simulator(self) -> ProviderSimulator:
        assert isinstance(self.server, _SimulatorServer)
        return self.server.simulator

    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve_dealmachine_name(self, body: bytes) -> None:
        """Respond to DealMachine's name search with at most one invented person per name."""
        simulator = self._simulator()
        if self.headers.get("authorization") != f"Bearer {simulator.api_key}":
            self._send_json(401, {"error": {"code": "unauthorized", "message": "Invalid API key."}})
            return
        item = _first_name_item(body)
        if item is None:
            message = "data[0].last_name is required."
            self._send_json(422, {"error": {"code": "validation_error", "message": message}})
            return
        key = "dealmachine:" + request_key(item)
        fault = simulator._planned_fault(key)
        if fault == TIMEOUT:
            simulator._wait(simulator._timeout_hang_seconds)
            self.close_connection = True
            return
        if fault is not None:
            self._send_failure(_InjectedFailure(int(fault), 1 if fault == "429" else None))
            return
        simulator._count_served(key)
        people = simulated_dealmachine_people(item)
        credits = {"used": len(people), "properties": 0, "people": len(people), "deduplicated": 0}
        pagination = {"page": 1, "per_page": 2, "total": len(people), "total_pages": 1 if people else 0}
        self._send_json(200, {"data": people, "credits": credits, "pagination": pagination})

    def _send_match(self, params: dict[str, str]) -> None:
        person = simulated_person(params)
        credits = credits_for(person)
        body: dict[str, Any] = {"person": person, "credits_used": credits}
        if person is not None and params.get("webhook_url") and params.get("reveal_phone_number") == "true":
            body["request_id"] = simulated_request_id(params)
        self._send_json(200, body, extra_headers={CREDITS_HEADER: str(credits)})

    def _send_failure(self, failure: _InjectedFailure) -> None:
        text = _ERROR_TEXTS.get(failure.status, "Internal server error.")
        body = {"message": text} if failure.status == 429 else {"error": text}
        headers = {"retry-after": str(failure.retry_after)} if failure.retry_after is not None else {}
        self._send_json(failure.status, body, extra_headers=headers)

    def _send_json(self, status: int, body: object, *, extra_headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def simulated_person(params: dict[str, str]) -> dict[str, Any] | None:
    """Return the Apollo-shaped `person` for these query parameters, or None for a miss.

    The outcome depends only on the normalized full name and domain.
    """
    first, last = _name_parts(params)
    domain = _clean_domain(params.get("domain"))
    digest = hashlib.sha256(f"{first} {last}|{domain or ''}".encode()).digest()
    if int.from_bytes(digest[:4], "big") % 100 >= _MATCH_PERCENT:
        return None

    email_domain = domain or "example.com"
    person_id = digest[8:20].hex()
    person: dict[str, Any] = {
        "id": person_id,
        "first_name": first.title(),
        "last_name": last.title(),
        "name": f"{first} {last}".strip().title(),
        "title": _TITLES[digest[5] % len(_TITLES)],
        "email": f"{_local_part(first, last)}@{email_domain}",
        "email_status": "verified" if digest[1] % 2 == 0 else "extrapolated",
        "organization_id": digest[20:32].hex(),
        "organization": _organization(params, email_domain, digest),
        "contact_id": None,
        "contact": None,
    }
    if params.get("reveal_phone_number") == "true" and digest[2] % 2 == 0:
        person["contact_id"] = digest[4:16].hex()
        person["contact"] = {"id": person["contact_id"], "phone_numbers": [_mobile_number(digest)]}
    return person


def simulated_dealmachine_people(item: dict[str, str]) -> list[dict[str, Any]]:
    """Return DealMachine-shaped contacts for one name item: one person for about 60% of names, else none.

    Phones are invented 555-01xx numbers, and about a quarter of them are on the Do-Not-Call list.
    """
    first = normalize_text(item.get("first_name")) or ""
    last = normalize_text(item.get("last_name")) or ""
    digest = hashlib.sha256(f"dealmachine|{first} {last}".encode()).digest()
    if int.from_bytes(digest[:4], "big") % 100 >= _MATCH_PERCENT:
        return []
    phones = [
        {
            "number": f"31455501{digest[20 + index] % 100:02d}",
            "type": "wireless" if index == 0 else "landline",
            "do_not_call": digest[10 + index] % 4 == 0,
        }
        for index in range(1 + digest[3] % 2)
    ]
    return [
        {
            "dm_person_id": "per_" + digest[8:16].hex(),
            "full_name": f"{first} {last}".strip().title(),
            "first_name": first.title() or None,
            "last_name": last.title(),
            "phones": phones,
            "emails": [{"address": f"{_local_part(first, last)}@example.com"}],
        }
    ]


def _first_name_item(body: bytes) -> dict[str, str] | None:
    """Return `data[0]` of a name search body as strings, or None when it is invalid or has no last name."""
    try:
        document = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        return None
    item = {key: value for key, value in data[0].items() if isinstance(value, str)}
    return item if normalize_text(item.get("last_name")) else None


def simulated_request_id(params: dict[str, str]) -> int:
    """Return the signed 64-bit `request_id` a phone-reveal match carries, derived from the request."""
    digest = hashlib.sha256(("request_id|" + request_key(params)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def request_key(params: dict[str, str]) -> str:
    """Return the normalized request as sorted `key=value` pairs, the unit of fault draws and `served` counts."""
    pairs = sorted((key, normalize_text(value) or "") for key, value in params.items() if key != "webhook_url")
    return "&".join(f"{key}={value}" for key, value in pairs)


def _has_person_name(params: dict[str, str]) -> bool:
    if normalize_text(params.get("name")):
        return True
    return bool(normalize_text(params.get("first_name")) and normalize_text(params.get("last_name")))


def _name_parts(params: dict[str, str]) -> tuple[str, str]:
    """Return the lowercased first and last name, from first_name/last_name or else from `name`."""
    first = normalize_text(params.get("first_name"))
    last = normalize_text(params.get("last_name"))
    if first and last:
        return first, last
    words = (normalize_text(params.get("name")) or "").split()
    if not words:
        return first or "", last or ""
    return words[0], words[-1] if len(words) > 1 else ""


def _clean_domain(value: str | None) -> str | None:
    """Return a bare lowercase host: no scheme, path or leading `www.`."""
    text = normalize_text(value)
    if text is None:
        return None
    host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
    host = host.removeprefix("www.")
    return host or None


def _local_part(first: str, last: str) -> str:
    # Decompose accented letters first, so "Fernández" gives "fernandez", not "fernndez".
    folded = [unicodedata.normalize("NFKD", part) for part in (first, last)]
    cleaned = ["".join(char for char in part if char.isascii() and char.isalnum()) for part in folded]
    return ".".join(part for part in cleaned if part) or "person"


def _organization(params: dict[str, str], domain: str, digest: bytes) -> dict[str, Any]:
    given_name = params.get("organization_name", "").strip()
    return {
        "id": digest[20:32].hex(),
        "name": given_name or domain.split(".")[0].title(),
        "primary_domain": domain,
        "industry": "marketing and advertising",
        "estimated_num_employees": 10 + digest[6] * 4,
    }


def _mobile_number(digest: bytes) -> dict[str, Any]:
    suffix = f"{int.from_bytes(digest[20:24], 'big') % 100:02d}"
    return {
        "raw_number": f"+1 212-555-01{suffix}",
        "sanitized_number": f"+121255501{suffix}",
        "type": "mobile",
        "status": "valid_number",
        "dnc_status": "dnc" if digest[7] % 4 == 0 else "clear",
        "dialer_flags": None,
    }
