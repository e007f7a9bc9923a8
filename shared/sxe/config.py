"""Settings: every environment variable the product reads, in one validated object.

An explicit argument beats the environment, which beats the default. A bad value
raises ConfigError naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from urllib.parse import quote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sxe.errors import ConfigError

MAX_SIGNED_URL_SECONDS = 604_800
# Keys that sign URLs or hash the suppression list: 32 bytes or more, the length of their HMAC-SHA256 output.
MIN_KEY_BYTES = 32
# Ingest processes by default: one per core, at most this many, because more only
# add contention with PostgreSQL on the same machine.
MAX_DEFAULT_INGEST_JOBS = 4
MAX_INGEST_JOBS = 32
# Audience pool names, as the check constraint of social.ingest_batches.pool accepts them.
POOL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def default_ingest_jobs() -> int:
    """Return the number of CPU cores, at most MAX_DEFAULT_INGEST_JOBS."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_INGEST_JOBS))


class Settings(BaseSettings):
    """Runtime configuration, read from `SXE_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SXE_", extra="ignore", frozen=True)

    database_url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL; unset means an embedded server in the state folder."
    )
    state_dir: Path = Field(default=Path(".sxe"), description="Folder for the embedded database and local objects.")
    environment: str = Field(default="local", pattern=r"^[a-z0-9-]{1,32}$", description="Name used in export keys.")
    signing_key: SecretStr | None = Field(
        default=None, description="HMAC key for local signed URLs; unset means a key generated in the state folder."
    )
    public_base_url: str = Field(default="http://127.0.0.1:8080", description="Base of local download URLs.")
    signed_url_seconds: int = Field(default=900, ge=1, le=MAX_SIGNED_URL_SECONDS)
    bundle_retention_days: int = Field(default=7, ge=1, le=365)

    apollo_api_key: SecretStr | None = Field(
        default=None, description="Apollo key; with no provider key set, the simulator serves Apollo."
    )
    apollo_base_url: str = "https://api.apollo.io"
    apollo_webhook_token: SecretStr | None = Field(
        default=None,
        description="Token in the enrich/callback URL; with SXE_FUNCTIONS_BASE_URL set, Apollo is asked for phones.",
    )
    functions_base_url: str | None = Field(
        default=None,
        description="Public base of the web functions, such as https://HOST/api/v1/web/NAMESPACE.",
    )
    dealmachine_api_key: SecretStr | None = Field(
        default=None,
        description="DealMachine key; unset leaves DealMachine out unless no provider key is set (simulated run).",
    )
    dealmachine_base_url: str = "https://api.v2.dealmachine.com"
    provider_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    db_pool_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="Seconds a function waits for a pooled database connection."
    )

    pool: str = Field(default="default", description="Audience pool name.")
    pool_budget_credits: int = Field(default=500, ge=0, description="Credits a pool may spend per month.")
    provider_rate_per_second: float = Field(default=5.0, gt=0)
    provider_burst: int = Field(default=10, ge=1)
    cooldown_hit_days: int = Field(default=90, ge=1)
    cooldown_miss_days: int = Field(default=30, ge=1)

    suppression_key: SecretStr | None = Field(
        default=None, description="HMAC key of the suppression list; unset means a key generated in the state folder."
    )
    erase_token: SecretStr | None = Field(
        default=None,
        description="Bearer token the erase function requires; unset means the function rejects every call.",
    )
    retention_tier1_days: int = Field(
        default=730, ge=1, description="Days a Tier 1 profile is kept after its last change."
    )
    retention_tier2_days: int = Field(
        default=365, ge=1, description="Days a contact point is kept after it was last seen."
    )
    retention_bio_sightings_days: int | None = Field(
        default=None,
        ge=1,
        description="Days an email or phone seen in a public bio is kept after it was last seen; unset means Tier 2's.",
    )
    retention_tier3_days: int = Field(
        default=365, ge=1, description="Days cards and ops records are kept after their last change."
    )
    retention_batch_rows: int = Field(
        default=5000, ge=1, le=100_000, description="Rows deleted per retention transaction."
    )
    dnc_scrub_max_days: int = Field(
        default=31, ge=1, le=31, description="Days a phone's DNC scrub stays valid for handoff (31 at most)."
    )
    simulator_faults: str = Field(default="", description="Simulator fault rates, e.g. 429=0.2,500=0.1,timeout=0.05.")
    simulator_seed: int = Field(default=0, description="Seed of the simulator's fault draws.")
    job_backoff_base_seconds: float = Field(default=5.0, gt=0, description="First retry waits 1/2 to 1 times this.")
    job_backoff_cap_seconds: float = Field(default=900.0, gt=0, description="Maximum wait between retries.")
    breaker_failure_threshold: int = Field(default=5, ge=1, description="Consecutive failures that open a breaker.")
    breaker_open_seconds: float = Field(default=60.0, gt=0, description="Cool-off before a half-open probe.")
    worker_batch_size: int = Field(default=10, ge=1, le=500, description="Jobs claimed per claim statement.")
    ingest_jobs: int = Field(
        default_factory=default_ingest_jobs,
        ge=1,
        le=MAX_INGEST_JOBS,
        description="Processes that read, normalize and redact records during ingest; 1 ingests in this process only.",
    )
    enrich_drain_seconds: float = Field(
        default=60.0, ge=0, description="How long a run waits for scheduled retries before it moves on."
    )
    spaces_endpoint: str | None = Field(default=None, description="Spaces S3 endpoint; unset means the local store.")
    spaces_region: str = Field(default="us-east-1", description="Region name used for request signing.")
    spaces_bucket: str | None = Field(default=None, description="Bucket (Space) that stores exports.")
    spaces_key: SecretStr | None = Field(default=None, description="Spaces access key id.")
    spaces_secret: SecretStr | None = Field(default=None, description="Spaces secret access key.")

    @field_validator(
        "database_url",
        "signing_key",
        "suppression_key",
        "erase_token",
        "spaces_endpoint",
        "spaces_bucket",
        "spaces_key",
        "spaces_secret",
        "apollo_api_key",
        "apollo_webhook_token",
        "functions_base_url",
        "dealmachine_api_key",
        "retention_bio_sightings_days",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # The deploy environment passes unset variables as empty strings.
        return None if value == "" else value

    @field_validator("signing_key", "suppression_key")
    @classmethod
    def _check_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_KEY_BYTES:
            raise ValueError(
                f"shorter than {MIN_KEY_BYTES} bytes (value not shown); "
                "set a random value such as the output of `openssl rand -hex 32`"
            )
        return value

    @model_validator(mode="after")
    def _check_spaces(self) -> Settings:
        parts = {
            "SXE_SPACES_ENDPOINT": self.spaces_endpoint,
            "SXE_SPACES_BUCKET": self.spaces_bucket,
            "SXE_SPACES_KEY": self.spaces_key,
            "SXE_SPACES_SECRET": self.spaces_secret,
        }
        missing = [name for name, value in parts.items() if not value]
        if 0 < len(missing) < len(parts):
            raise ValueError(f"Spaces settings are incomplete: set {', '.join(missing)} too, or unset all of them")
        return self

    @field_validator("pool")
    @classmethod
    def _check_pool(cls, value: str) -> str:
        if not POOL_NAME.fullmatch(value):
            raise ValueError(
                "a pool name is 1 to 63 lowercase letters, digits, '-' and '_', starting with a letter or digit"
            )
        return value

    @field_validator("functions_base_url")
    @classmethod
    def _check_functions_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                "expected an http(s) URL without query or fragment, such as https://HOST/api/v1/web/NAMESPACE"
            )
        return value.strip().rstrip("/")

    @property
    def apollo_callback_url(self) -> str | None:
        """The enrich/callback URL, token included, that Apollo posts phones to; None unless both parts are set.

        The URL contains the token: pass it only to Apollo, never to a log line, event or error.
        """
        if self.apollo_webhook_token is None or self.functions_base_url is None:
            return None
        token = quote(self.apollo_webhook_token.get_secret_value(), safe="")
        return f"{self.functions_base_url}/enrich/callback?token={token}"

    @property
    def spaces_configured(self) -> bool:
        return self.spaces_endpoint is not None

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: a URL usually carries a password.
        if value is None:
            return None
        text = value.get_secret_value()
        try:
            parts = urlsplit(text)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if parts.scheme not in ("postgresql", "postgres") or not port_ok:
            raise ValueError("expected a URL such as postgresql://user:password@host:5432/dbname (value not shown)")
        return value

    @model_validator(mode="after")
    def _check_retention_order(self) -> Settings:
        # Tier 1 outlives the tiers built from it: a card or contact point without its profile explains nothing.
        if self.retention_tier1_days < max(self.retention_tier2_days, self.retention_tier3_days):
            raise ValueError(
                f"SXE_RETENTION_TIER1_DAYS ({self.retention_tier1_days}) must be at least SXE_RETENTION_TIER2_DAYS "
                f"({self.retention_tier2_days}) and SXE_RETENTION_TIER3_DAYS ({self.retention_tier3_days})"
            )
        if self.bio_sightings_days > self.retention_tier1_days:
            raise ValueError(
                f"SXE_RETENTION_BIO_SIGHTINGS_DAYS ({self.bio_sightings_days}) must be at most "
                f"SXE_RETENTION_TIER1_DAYS ({self.retention_tier1_days}), the period of the bios they come from"
            )
        return self

    @property
    def bio_sightings_days(self) -> int:
        """Days a bio sighting is kept: SXE_RETENTION_BIO_SIGHTINGS_DAYS, else the Tier 2 period."""
        return self.retention_bio_sightings_days or self.retention_tier2_days

    @field_validator("state_dir")
    @classmethod
    def _expand_state_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @cached_property
    def objects_dir(self) -> Path:
        return self.state_dir / "objects"

    @cached_property
    def pgdata_dir(self) -> Path:
        return self.state_dir / "pgdata"


def load_settings(*, option_names: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from the environment and explicit overrides; raise ConfigError on a bad value.

    The error names where the bad value came from: the `SXE_*` variable, or for an
    override the command-line option or event key that `option_names` maps its field
    to (the field name when it maps none). It shows the value unless the field is secret.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:
            # A check across several variables; its message names them.
            raise ConfigError(f"invalid settings: {message}; fix the variables or unset them") from exc
        field = "_".join(str(part) for part in first["loc"])
        shown_value = "" if _is_secret(field) else f" {first['input']!r}"
        if field in overrides:
            name = (option_names or {}).get(field, field)
            raise ConfigError(f"invalid {name}{shown_value}: {message}; fix the value of {name}") from exc
        name = f"SXE_{field.upper()}"
        raise ConfigError(
            f"invalid {name}{shown_value}: {message}; fix the variable or unset it to use the default"
        ) from exc


def _is_secret(field: str) -> bool:
    """Tell whether a setting's value must stay out of messages: keys, tokens, secrets and URLs that may carry them."""
    declared = Settings.model_fields.get(field)
    if declared is not None and "SecretStr" in str(declared.annotation):
        return True
    return any(part in field for part in ("key", "secret", "token", "password", "url"))
