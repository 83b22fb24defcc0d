"""The one typed settings object.

Read from environment variables ``TIAOJIE_<FIELD>`` and, optionally, a TOML file named by ``TIAOJIE_CONFIG``
(environment variables win). Nothing imports settings as a global: the object is built once by the command
line and injected into the application.

The defaults are the embedded default: SQLite and media files under ``./var/``, no Redis, bound to
127.0.0.1:8080.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from tiaojie.errors import InvalidInput

__all__ = ["ENV_PREFIX", "IceServer", "Settings", "load_settings"]

ENV_PREFIX = "TIAOJIE_"

DEFAULT_MATERIAL_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/ofd",
)


class IceServer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    @field_validator("urls", mode="before")
    @classmethod
    def _one_url(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class Settings(BaseModel):
    """Every setting of the service. Field ``foo_bar`` is read from ``TIAOJIE_FOO_BAR``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(Path("var"), description="Where the embedded database, secrets and files live.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL; default sqlite+aiosqlite under data_dir. "
        "PostgreSQL: postgresql+asyncpg://user:password@host/dbname",
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL for scale-out over several machines (room routing, node load, job leases); "
        "unused on the embedded default.",
    )
    redis_prefix: str = Field(
        "tiaojie:", min_length=1, max_length=64, description="Prefix of every Redis key this deployment uses."
    )
    workers: int = Field(
        1, ge=1, le=64, description="Worker processes sharing the listening socket; one per core."
    )
    node_host: str = Field(
        "127.0.0.1",
        description="With Redis: the address this node listens on for connections handed over by other "
        "nodes (a free port); set it to an address the other machines reach.",
    )
    room_lease_seconds: float = Field(
        15.0, ge=1, le=300, description="With Redis: how long a silent node keeps its rooms."
    )
    media_dir: Path | None = Field(
        None, description="Uploaded materials and recordings; default data_dir/media."
    )
    recording_segment_seconds: int = Field(
        60, ge=10, le=3600, description="Length of one recorded segment file; a crash loses at most ≈1 s."
    )
    recording_retention_days: int = Field(
        180, ge=1, le=36500, description="Days a sealed recording is kept before its files are deleted."
    )
    recording_link_days: int = Field(
        7, ge=1, le=30, description="Default validity of a party's link to the case's recordings, in days."
    )
    render_font: Path | None = Field(
        None, description="Font for names on playback renderings (needs CJK); default: a Debian CJK font."
    )
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = Field(
        None, description="Externally visible base URL, e.g. https://tiaojie.court.example"
    )
    secret_key: str | None = Field(
        None,
        description="The signing secret (join links). Set it in production; the embedded default "
        "generates one into data_dir/secret_key.",
        min_length=32,
    )
    tls_cert: Path | None = Field(None, description="PEM certificate to serve HTTPS directly.")
    tls_key: Path | None = Field(None, description="PEM private key for tls_cert.")
    session_ttl_hours: int = Field(12, ge=1, le=24 * 30)
    cookie_secure: bool | None = Field(
        None, description="Secure flag on cookies; default: public_url is https."
    )
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    max_json_bytes: int = Field(1024 * 1024, ge=1024)
    material_types: tuple[str, ...] = DEFAULT_MATERIAL_TYPES
    calendar_overrides: Path | None = Field(
        None, description="TOML file with newly published holidays and make-up workdays."
    )
    deadline_warn_days: int = Field(3, ge=0, le=30)
    read_cache_entries: int = Field(
        4096,
        ge=0,
        description="Encoded answers of the hot case reads kept while the SQLite database has not changed "
        "(web/read_cache.py); 0 turns the cache off.",
    )
    read_cache_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Bytes of answers the cache holds.")
    sweep_interval_seconds: float = Field(300.0, gt=0)
    login_max_failures: int = Field(5, ge=1)
    login_lockout_minutes: int = Field(15, ge=1)
    join_link_hours: int = Field(
        24, ge=1, le=24 * 30, description="How long after a session's scheduled end its join links work."
    )
    notifier: Literal["log", "http"] = Field("log", description="How join links reach people: log or http.")
    notifier_url: str | None = Field(None, description="The SMS gateway's URL (notifier=http).")
    notifier_token: str | None = Field(None, description="Bearer token for the SMS gateway.")
    signing_link_hours: int = Field(
        72, ge=1, le=24 * 30, description="How long a party's agreement-signing link works after it is sent."
    )
    signing_code_ttl_seconds: int = Field(
        300, ge=30, le=3600, description="How long a one-time code for signing the agreement works."
    )
    signing_code_attempts: int = Field(5, ge=1, le=20, description="Wrong tries allowed per one-time code.")
    signing_code_interval_seconds: int = Field(
        60, ge=1, le=3600, description="The shortest time between two one-time codes sent to one signer."
    )
    signing_code_hourly_limit: int = Field(
        5, ge=1, le=100, description="One-time codes sent to one signer in any hour, at most."
    )
    ice_servers: tuple[IceServer, ...] = Field(
        (),
        description="STUN/TURN servers for browsers and the server, as JSON: "
        '[{"urls": ["turn:turn.court.example:3478"], "username": "u", "credential": "p"}]. '
        "Empty by default: no public STUN server is ever used.",
    )
    announced_addresses: tuple[str, ...] | None = Field(
        None,
        description="IP addresses the media server gathers and announces ICE candidates on "
        "(comma-separated); "
        "default: every interface except loopback.",
    )
    video_codec: Literal["VP8", "H264"] = Field("VP8", description="The rooms' one video codec.")
    reconnect_grace_seconds: float = Field(
        60.0, gt=0, le=600, description="How long a dropped participant's seat waits for them to rejoin."
    )
    webhook_allowed_networks: tuple[str, ...] = Field(
        (),
        description="Private or loopback networks (CIDR, comma-separated) webhook endpoints may be in; "
        "default none: only public addresses.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="How long one webhook delivery attempt may take."
    )
    webhook_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How often the delivery worker looks for due webhook deliveries."
    )
    webhook_concurrency: int = Field(8, ge=1, le=64, description="Webhook deliveries sent at the same time.")
    metrics_token: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        description="Bearer token Prometheus sends to scrape /metrics. Without it and without "
        "metrics_allowed_networks, /metrics is off (404).",
    )
    metrics_allowed_networks: tuple[str, ...] = Field(
        (),
        description="Networks (CIDR, comma-separated) whose direct connections may scrape /metrics; with a "
        "token too, both are required.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    malloc_trim_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="How often each server process gives the heap's free pages back to the system "
        "(glibc malloc_trim; tiaojie/memory.py); 0 never.",
    )
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto",
        description="The event loop the server runs on: uvloop (libuv; about half the CPU per media "
        "packet woken for), asyncio (the standard library's), or auto: uvloop where it is installed.",
    )
    # --- sealing agreements (agreements/seal_keys.py) ---
    seal_key: Path | None = Field(
        None,
        description="PEM private key of the service's sealing certificate; default: a development pair "
        "generated once under data_dir/seal.",
    )
    seal_cert: Path | None = Field(
        None, validate_default=True, description="PEM certificate of seal_key (set both or neither)."
    )
    seal_key_passphrase: str | None = Field(None, description="Passphrase of an encrypted seal_key.")
    seal_chain: tuple[Path, ...] = Field(
        (), description="PEM files of the certificates that issued seal_cert (comma-separated)."
    )
    seal_trust_roots: tuple[Path, ...] = Field(
        (),
        description="PEM files of the roots verification trusts (comma-separated); default: the last "
        "certificate of seal_chain, or seal_cert itself.",
    )
    verify_per_minute: int = Field(
        20,
        ge=1,
        le=10_000,
        description="Verification requests (codes and uploads) one address may make a minute.",
    )

    @field_validator(
        "material_types",
        "announced_addresses",
        "webhook_allowed_networks",
        "metrics_allowed_networks",
        "seal_chain",
        "seal_trust_roots",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("ice_servers", mode="before")
    @classmethod
    def _json_servers(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else ()
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc.msg}") from None
        return value

    @field_validator("webhook_allowed_networks", "metrics_allowed_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"not a network: {network[:60]}") from None
        return value

    @field_validator("seal_cert")
    @classmethod
    def _seal_pair(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if (info.data.get("seal_key") is None) != (value is None):
            raise ValueError("TIAOJIE_SEAL_KEY and TIAOJIE_SEAL_CERT are set together")
        return value

    @property
    def metrics_enabled(self) -> bool:
        return bool(self.metrics_token or self.metrics_allowed_networks)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tiaojie.db').resolve()}"

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.data_dir / "media"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return bool(self.public_url and self.public_url.startswith("https://")) or self.tls_cert is not None

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "https" if self.tls_cert else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"{scheme}://{host}:{self.port}"

    def with_secret(self) -> Settings:
        """These settings with a secret key: the configured one, or one kept in data_dir/secret_key."""
        if self.secret_key:
            return self
        path = self.data_dir / "secret_key"
        if path.exists():
            key = path.read_text().strip()
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key + "\n")
        return self.model_copy(update={"secret_key": key})


def load_settings(
    environ: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build the settings from a TOML file (``TIAOJIE_CONFIG``), the environment, then explicit overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_path = env.get(ENV_PREFIX + "CONFIG")
    if config_path:
        try:
            with open(config_path, "rb") as fh:
                values.update(tomllib.load(fh))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(
                f"cannot read config file {config_path}: {exc}", code="invalid_config"
            ) from exc
    for name in Settings.model_fields:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = raw
    if overrides:
        values.update(overrides)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"invalid setting {ENV_PREFIX}{field.upper()}: {first['msg']}", field=field, code="invalid_config"
        ) from exc
