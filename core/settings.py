"""Service configuration, read from DARKROOM_* variables and an optional .env file."""

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.enums import Tier


def default_data_dir() -> Path:
    """Return the per-user data folder (XDG on Linux, ~/.local/share elsewhere)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "darkroom"


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable."""


PositiveInt = Annotated[int, Field(ge=1)]


class Settings(BaseSettings):
    """Every DARKROOM_* setting, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="DARKROOM_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    # Server connections each process keeps (pool size) and may open beyond them
    # under load (overflow); a fleet's processes together must stay under the
    # server's max_connections.
    db_pool_size: PositiveInt = 10
    db_max_overflow: Annotated[int, Field(ge=0)] = 20
    redis_url: str = ""
    storage_url: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    signed_url_ttl_seconds: PositiveInt = 3600
    models_file: Path | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    debug: bool = False

    # Tiers: how many jobs run at once per account; paid tiers are served first.
    parallel_free: PositiveInt = 1
    parallel_starter: PositiveInt = 2
    parallel_pro: PositiveInt = 3
    parallel_ultimate: PositiveInt = 4

    # Free credits: a grant at sign-up, then a top-up every interval up to a cap.
    free_signup_credits: Annotated[int, Field(ge=0)] = 50
    free_topup_amount: Annotated[int, Field(ge=0)] = 10
    free_topup_interval_hours: Annotated[float, Field(gt=0)] = 12
    free_topup_cap: Annotated[int, Field(ge=0)] = 50
    # Free-tier outputs are public (the gallery feeds on them); paid outputs start private.
    free_outputs_public: bool = True

    # Search over prompts: "auto" searches on SQLite, and on PostgreSQL when the
    # pgvector extension is there; "on" refuses to start without it.
    search: Literal["auto", "on", "off"] = "auto"
    # A folder holding a sentence-transformers model; unset: the bundled
    # all-MiniLM-L6-v2, unpacked into data_dir/models on first use.
    search_model: Path | None = None
    # On SQLite, what each API process keeps of the ids and vectors its searches
    # read, so an account's next search need not read them again (about 1.6 MB
    # per 1,000 outputs at 384 dimensions); 0 reads them on every search.
    search_cache_mb: Annotated[int, Field(ge=0)] = 256

    max_tokens_per_user: PositiveInt = 10
    # How soon a revoked token stops working everywhere: each API process checks
    # its open websockets' tokens this often (one query for all of them), and
    # remembers an authenticated token for at most this long.
    revocation_check_seconds: Annotated[float, Field(gt=0)] = 2

    # API limits: the computed cost one operation may reach, and a fixed window of
    # points per token (anonymous callers share a smaller budget per client IP).
    max_query_cost: PositiveInt = 1000
    rate_limit_points: PositiveInt = 5000
    anonymous_rate_limit_points: PositiveInt = 1000
    rate_limit_window_seconds: PositiveInt = 3600
    # Job-creating mutations (generationCreate, upscaleCreate, imageUpload) per account.
    create_rate_per_minute: PositiveInt = 60
    # Largest JSON request body; a multipart upload may add its 10 MB file to it.
    max_body_bytes: PositiveInt = 1_000_000

    # Jobs: run-time limits, liveness and the per-account overflow queue.
    job_timeout_seconds: Annotated[float, Field(gt=0)] = 600
    heartbeat_seconds: Annotated[float, Field(gt=0)] = 2
    # A RUNNING job whose heartbeat is older than this is presumed dead, and each
    # worker looks for such jobs this often: a job whose worker was killed starts
    # again on another within about the sum of the two.
    heartbeat_stale_seconds: Annotated[float, Field(gt=0)] = 10
    dead_run_check_seconds: Annotated[float, Field(gt=0)] = 3
    queued_expiry_minutes: Annotated[float, Field(gt=0)] = 30
    max_overflow: Annotated[int, Field(ge=0)] = 50
    max_attempts: PositiveInt = 3
    # How long a stopping process (SIGTERM) lets running jobs and subscriptions
    # finish before it hands its jobs back to the queue and closes its sockets;
    # with the API's last FINAL_REQUESTS_SECONDS, within Kubernetes' default 30 s.
    drain_seconds: Annotated[float, Field(ge=0)] = 25
    # Least time between two PROGRESS events of one job (the last step always goes).
    progress_interval_seconds: Annotated[float, Field(ge=0)] = 0.1
    # Longest an idle arq worker waits before looking for jobs. Enqueueing wakes it
    # at once, so this only bounds a lost wake-up: benchmarks/pipeline.py measured
    # the same claim wait (about 6 ms) at 0.5 s as at 0.01 s, for 0.3% of a core
    # when idle instead of 3.3%.
    worker_poll_delay_seconds: Annotated[float, Field(ge=0)] = 0.5
    # Most images one engine call may carry when a worker takes compatible queued
    # jobs together (same model, size, steps, scheduler, guidance); 1 runs every
    # job alone. Bounds the call's peak memory, as the engine's own cap does.
    batch_max_images: PositiveInt = 8

    # CPU threads for torch in `serve` (when it runs jobs) and `worker`; 0 takes
    # every usable core. Idle threads sleep rather than spin either way; set
    # fewer to keep cores for other programs on the machine.
    torch_threads: Annotated[int, Field(ge=0)] = 0

    # Webhooks. Outbound URLs may not reach loopback, private, link-local or
    # CGNAT addresses unless this is on (tests, private deployments); metadata,
    # multicast and unspecified addresses are refused even then.
    webhook_allow_private: bool = False
    max_webhook_endpoints: PositiveInt = 10
    # One attempt's whole time, connect to last byte read.
    webhook_timeout_seconds: Annotated[float, Field(gt=0)] = 10
    # Terminal events: attempts in all, waiting base * 4^(n-1) (+ up to 20%)
    # after the n-th failure: 10 s, 40 s, 160 s, 11 min, 43 min by default.
    webhook_max_attempts: PositiveInt = 6
    webhook_retry_base_seconds: Annotated[float, Field(gt=0)] = 10

    # Log lines: `text` (readable) or `json` (one object a line).
    log_format: Literal["text", "json"] = "text"

    # Metrics. /metrics on the API needs a token with the METRICS scope; set
    # `host:port` here to serve them unauthenticated on that address as well (a
    # private network). A worker serves them on this port (all interfaces, no
    # authentication) when it is not 0.
    metrics_address: str = ""
    worker_metrics_port: Annotated[int, Field(ge=0, le=65535)] = 0

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgres")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint_with_host(cls, value: str) -> str:
        if value:
            origin_of(value)
        return value

    @field_validator("storage_url")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if value.startswith("s3://"):
            if not value.removeprefix("s3://").split("/")[0]:
                raise ValueError("s3:// needs a bucket: s3://bucket/prefix")
        elif value.startswith("file://") or "://" not in value:
            pass
        else:
            raise ValueError("must be a folder, file:// or s3://bucket/prefix")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL: the embedded SQLite file unless one is set."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'darkroom.db'}"
        return async_database_url(url)

    @property
    def storage_root(self) -> Path:
        """The local storage folder when storage is not S3."""
        if not self.storage_url:
            return self.data_dir / "files"
        return Path(self.storage_url.removeprefix("file://"))

    @property
    def storage_image_origins(self) -> tuple[str, ...]:
        """The origins (scheme://host[:port], never a path) of the image URLs S3
        storage hands out; none for local storage, which the API itself serves."""
        if not self.storage_url.startswith("s3://"):
            return ()
        if self.s3_endpoint_url:
            return (origin_of(self.s3_endpoint_url),)
        bucket = self.storage_url.removeprefix("s3://").split("/")[0]
        # Public URLs name the region; boto3 presigns on the global host, or
        # path-style on the regional one when the bucket name has a dot.
        hosts = [
            f"{bucket}.s3.amazonaws.com",
            f"{bucket}.s3.{self.s3_region}.amazonaws.com",
        ]
        if "." in bucket:
            hosts.append(f"s3.{self.s3_region}.amazonaws.com")
        return tuple(origin_of(f"https://{host}") for host in hosts)

    @property
    def is_embedded(self) -> bool:
        """True on the zero-setup default: SQLite, no Redis."""
        return self.resolved_database_url.startswith("sqlite") and not self.redis_url

    def parallel_limit(self, tier: Tier) -> int:
        """How many jobs an account of this tier may run at once."""
        return {
            Tier.FREE: self.parallel_free,
            Tier.STARTER: self.parallel_starter,
            Tier.PRO: self.parallel_pro,
            Tier.ULTIMATE: self.parallel_ultimate,
        }[tier]


def async_database_url(url: str) -> str:
    """Pick the async driver for a plain database URL (sqlite -> aiosqlite, pg -> asyncpg)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError(f"DARKROOM_DATABASE_URL: not a URL: {url!r}")
    base = scheme.split("+")[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgres", "postgresql"):
        return f"postgresql+asyncpg://{rest}"
    raise SettingsError(f"DARKROOM_DATABASE_URL: unsupported database {scheme!r}")


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning a validation failure into one message naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates at runtime
    except ValidationError as err:
        problems = []
        for e in err.errors():
            name = "DARKROOM_" + "_".join(str(p) for p in e["loc"]).upper()
            problems.append(f"{name}: {e['msg']} (got {e.get('input')!r})")
        raise SettingsError("; ".join(problems)) from None


_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an http(s) URL, for a Content-Security-Policy;
    ValueError when it has no such origin."""
    parts = urlsplit(url)
    port = parts.port  # ValueError when not a number in 0..65535
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host):
        raise ValueError(f"must be an http(s) URL with a host; got {url!r}")
    return f"{parts.scheme}://{host}" + ("" if port is None else f":{port}")
