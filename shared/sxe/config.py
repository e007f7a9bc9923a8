"""Settings: every environment variable the product reads, in one validated object.

An explicit argument beats the environment, which beats the default. A bad value
raises ConfigError naming the variable.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sxe.errors import ConfigError

MAX_SIGNED_URL_SECONDS = 604_800


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

    apollo_api_key: SecretStr | None = Field(default=None, description="Apollo key; unset means the simulator.")
    apollo_base_url: str = "https://api.apollo.io"
    provider_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    pool: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Audience pool name.")
    pool_budget_credits: int = Field(default=500, ge=0, description="Credits a pool may spend per month.")
    provider_rate_per_second: float = Field(default=5.0, gt=0)
    provider_burst: int = Field(default=10, ge=1)
    cooldown_hit_days: int = Field(default=90, ge=1)
    cooldown_miss_days: int = Field(default=30, ge=1)

    spaces_endpoint: str | None = Field(default=None, description="Spaces S3 endpoint; unset means the local store.")
    spaces_region: str = Field(default="us-east-1", description="Region name used for request signing.")
    spaces_bucket: str | None = Field(default=None, description="Bucket (Space) that holds exports.")
    spaces_key: SecretStr | None = Field(default=None, description="Spaces access key id.")
    spaces_secret: SecretStr | None = Field(default=None, description="Spaces secret access key.")

    @field_validator("spaces_endpoint", "spaces_bucket", "spaces_key", "spaces_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # The deploy environment passes unset variables as empty strings.
        return None if value == "" else value

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


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment and explicit overrides; raise ConfigError on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        # A check across several variables has no location; its message names them.
        name = "SXE_" + "_".join(str(part) for part in first["loc"]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"invalid {name}: {message}; fix the variable or unset it to use the default") from exc
