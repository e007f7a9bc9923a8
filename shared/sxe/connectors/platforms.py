"""The pull connectors: X API v2 user lookup, Threads profile lookup, TikTok Research user info, Apify datasets.

Each connector reads its credential from the environment (see `ConnectorSettings`)
and yields pages in one of the ingest formats, so pulled records go through the
same parsing, quarantine and change detection as files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sxe.connectors.base import Connector, Page, PullRequest, RateLimit, RateLimitedClient, chunked
from sxe.errors import PermanentProviderError, UsageError

X_USER_FIELDS = (
    "created_at,description,entities,id,location,name,profile_image_url,protected,public_metrics,url,username,"
    "verified,verified_type"
)
X_LOOKUP_MAX = 100
THREADS_FIELDS = (
    "username,name,profile_picture_url,biography,is_verified,follower_count,likes_count,quotes_count,"
    "replies_count,reposts_count,views_count"
)
TIKTOK_FIELDS = (
    "display_name,bio_description,avatar_url,is_verified,follower_count,following_count,likes_count,video_count,bio_url"
)
APIFY_PAGE_LIMIT = 1000


class ConnectorSettings(BaseSettings):
    """Credentials and endpoints of the pull connectors, read from `SXE_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SXE_", extra="ignore", frozen=True)

    x_bearer_token: SecretStr | None = None
    threads_access_token: SecretStr | None = None
    tiktok_research_token: SecretStr | None = None
    apify_token: SecretStr | None = None
    x_api_base_url: str = "https://api.x.com"
    threads_api_base_url: str = "https://graph.threads.net"
    tiktok_api_base_url: str = "https://open.tiktokapis.com"
    apify_api_base_url: str = "https://api.apify.com"


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class XUsersLookup(Connector):
    """GET /2/users/by?usernames=... or /2/users?ids=..., up to 100 per request.

    Partial errors (a suspended or unknown user) arrive in the response's `errors`
    array beside `data` and are quarantined by the `x-api-v2` format. Documented
    limit for app-only auth: 300 requests per 15 minutes.
    """

    name = "x-api"
    format_name = "x-api-v2"
    rate_limit = RateLimit(capacity=10, refill_per_second=300 / 900)
    credential_variable = "SXE_X_BEARER_TOKEN"

    def __init__(self, settings: ConnectorSettings) -> None:
        self.base_url = settings.x_api_base_url.rstrip("/")
        self.token = _secret(settings.x_bearer_token)

    def pages(self, client: RateLimitedClient, request: PullRequest, cursor: dict[str, Any]) -> Iterator[Page]:
        token = self.require(self.token)
        chunks = chunked(request.targets, X_LOOKUP_MAX)
        for number in range(int(cursor.get("chunk", 0)), len(chunks)):
            key = "ids" if request.by_id else "usernames"
            path = "/2/users" if request.by_id else "/2/users/by"
            query = urlencode({key: ",".join(chunks[number]), "user.fields": X_USER_FIELDS})
            url = f"{self.base_url}{path}?{query}"
            response = client.request("GET", url, headers={"Authorization": f"Bearer {token}"})
            next_cursor = {"chunk": number + 1} if number + 1 < len(chunks) else None
            yield Page(records=[_json(response, self.name)], source_url=url, cursor=next_cursor)


class ThreadsProfileLookup(Connector):
    """GET /v1.0/profile_lookup?username=..., one profile per request.

    An unknown handle returns a Graph API error body, which the `threads-api`
    format quarantines as an `api_error`.
    """

    name = "threads-api"
    format_name = "threads-api"
    rate_limit = RateLimit(capacity=5, refill_per_second=1.0)
    credential_variable = "SXE_THREADS_ACCESS_TOKEN"

    def __init__(self, settings: ConnectorSettings) -> None:
        self.base_url = settings.threads_api_base_url.rstrip("/")
        self.token = _secret(settings.threads_access_token)

    def pages(self, client: RateLimitedClient, request: PullRequest, cursor: dict[str, Any]) -> Iterator[Page]:
        token = self.require(self.token)
        if request.by_id:
            raise UsageError("the Threads profile lookup takes handles, not ids; drop --ids")
        for number in range(int(cursor.get("index", 0)), len(request.targets)):
            query = urlencode({"username": request.targets[number], "fields": THREADS_FIELDS})
            url = f"{self.base_url}/v1.0/profile_lookup?{query}"
            response = client.request("GET", url, headers={"Authorization": f"Bearer {token}"})
            next_cursor = {"index": number + 1} if number + 1 < len(request.targets) else None
            yield Page(records=[_json(response, self.name)], source_url=url, cursor=next_cursor)


class TikTokResearchUserInfo(Connector):
    """POST /v2/research/user/info/ with {"username": ...}, one profile per request.

    The response names no user, so the queried username is added beside `data`,
    as the `tiktok-research-api` format expects. Documented daily quota: 1,000
    requests per day across the Research API.
    """

    name = "tiktok-research-api"
    format_name = "tiktok-research-api"
    rate_limit = RateLimit(capacity=5, refill_per_second=1000 / 86_400)
    credential_variable = "SXE_TIKTOK_RESEARCH_TOKEN"

    def __init__(self, settings: ConnectorSettings) -> None:
        self.base_url = settings.tiktok_api_base_url.rstrip("/")
        self.token = _secret(settings.tiktok_research_token)

    def pages(self, client: RateLimitedClient, request: PullRequest, cursor: dict[str, Any]) -> Iterator[Page]:
        token = self.require(self.token)
        if request.by_id:
            raise UsageError("the TikTok Research user info takes handles, not ids; drop --ids")
        url = f"{self.base_url}/v2/research/user/info/?{urlencode({'fields': TIKTOK_FIELDS})}"
        for number in range(int(cursor.get("index", 0)), len(request.targets)):
            username = request.targets[number]
            response = client.request(
                "POST", url, headers={"Authorization": f"Bearer {token}"}, json={"username": username}
            )
            body = _json(response, self.name)
            record = {"username": username, **body} if isinstance(body, dict) else body
            next_cursor = {"index": number + 1} if number + 1 < len(request.targets) else None
            yield Page(records=[record], source_url=url, cursor=next_cursor)


class ApifyDataset(Connector):
    """GET /v2/datasets/{id}/items?offset=&limit=, paged until a short page.

    The items are scraper exports in any ingest format: the request's format, or
    the one detected from the first page.
    """

    name = "apify"
    format_name = None
    rate_limit = RateLimit(capacity=30, refill_per_second=30.0)
    credential_variable = "SXE_APIFY_TOKEN"

    def __init__(self, settings: ConnectorSettings) -> None:
        self.base_url = settings.apify_api_base_url.rstrip("/")
        self.token = _secret(settings.apify_token)

    def pull_key(self, request: PullRequest) -> str:
        return f"dataset:{request.targets[0]}"

    def pages(self, client: RateLimitedClient, request: PullRequest, cursor: dict[str, Any]) -> Iterator[Page]:
        token = self.require(self.token)
        if len(request.targets) != 1:
            raise UsageError("the apify connector takes exactly one dataset id")
        offset = int(cursor.get("offset", 0))
        while True:
            query = urlencode({"offset": offset, "limit": APIFY_PAGE_LIMIT, "clean": "true", "format": "json"})
            url = f"{self.base_url}/v2/datasets/{request.targets[0]}/items?{query}"
            response = client.request("GET", url, headers={"Authorization": f"Bearer {token}"})
            if response.status_code == 404:
                raise UsageError(f"Apify dataset {request.targets[0]!r} not found; check the dataset id")
            items = _json(response, self.name)
            if not isinstance(items, list):
                raise PermanentProviderError("Apify returned a non-array page of items", provider=self.name)
            offset += len(items)
            total = response.headers.get("x-apify-pagination-total")
            finished = len(items) < APIFY_PAGE_LIMIT or (total is not None and total.isdigit() and offset >= int(total))
            yield Page(records=items, source_url=url, cursor=None if finished else {"offset": offset})
            if finished:
                return


def _json(response: Any, provider: str) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise PermanentProviderError(
            f"{provider} responded with HTTP {response.status_code} and a body that is not JSON", provider=provider
        ) from error


CONNECTORS: dict[str, Callable[[ConnectorSettings], Connector]] = {
    "x": XUsersLookup,
    "threads": ThreadsProfileLookup,
    "tiktok": TikTokResearchUserInfo,
    "apify": ApifyDataset,
}


def get_connector(name: str, settings: ConnectorSettings | None = None) -> Connector:
    """Return the connector for a platform name; raise UsageError listing the names."""
    try:
        factory = CONNECTORS[name]
    except KeyError:
        raise UsageError(f"unknown pull source {name!r}; use one of: {', '.join(CONNECTORS)}") from None
    return factory(settings or ConnectorSettings())
