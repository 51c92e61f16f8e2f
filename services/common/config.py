"""Settings shared by every service; each service's own settings class extends this one."""

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.subjects import DEFAULT_PREFIX, Subjects


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LONGFORM_", extra="ignore")

    database_url: str = Field(validation_alias=AliasChoices("DATABASE_URL", "LONGFORM_DATABASE_URL"))
    nats_url: str = Field(
        default="nats://127.0.0.1:4222", validation_alias=AliasChoices("NATS_URL", "LONGFORM_NATS_URL")
    )
    bus_prefix: str = DEFAULT_PREFIX
    log_level: str = "INFO"
    instance: str = ""  # this process among its service's replicas (e.g. generator-2); empty is the service
    db_pool_size: int = 5
    # Behind PgBouncer in transaction mode (Neon's pooled URL), prepared statements cannot be
    # cached per connection: None decides from the URL (Neon's "-pooler" hosts), true/false forces it.
    db_pooled: bool | None = None
    stream_replicas: int = 1  # JetStream replicas of the stream when a service creates it
    max_ack_pending: int = 1000  # messages in flight per durable consumer, across all replicas
    # /healthz, /readyz and /metrics of a worker (the gateway serves them on its own port);
    # None is the service's default port (services/common/ops.py, OPS_PORTS).
    ops_host: str = "127.0.0.1"
    ops_port: int | None = None

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.bus_prefix)

    @property
    def nats_servers(self) -> list[str]:
        """NATS_URL may list a cluster's nodes, comma-separated: the client fails over among them."""
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]


class ModelSettings(ServiceSettings):
    """Which model answers each role: for the services that call an LLM, and for the gateway,
    which prices a job's estimate by them (every process is given the same environment)."""

    llm_model: str = "gpt-4o-mini"
    llm_planner_model: str | None = None  # per role; each falls back to llm_model
    llm_writer_model: str | None = None
    llm_summary_model: str | None = None

    def model_for(self, role: str, job_model: str | None = None) -> str:
        """The role's own model when one is set, else the job's, else the default. (The writer
        is the exception: a job's model overrides the writer's, at the call.)"""
        return getattr(self, f"llm_{role}_model", None) or job_model or self.llm_model

    def models_of(self, job_model: str | None) -> dict[str, str]:
        """Each role's model for a job that asked for `job_model` (None: the defaults)."""
        return {"planner": self.model_for("planner", job_model), "writer": job_model or self.model_for("writer"),
                "summary": self.model_for("summary", job_model)}


class PlanShapeSettings(ServiceSettings):
    """How the planner cuts a job into calls: it plans by these, and the gateway estimates a job
    by the same variables (POST /v1/jobs?dry_run=true, contracts/estimate.py)."""

    chunk_words: int = 800  # largest budget given to one chunk
    chunks_per_section: int = 3  # of the fallback outline and of rewrite plans
    # Targets up to this are one chunk, with no outline call: one section needs none, and its call
    # would be a third of a short document's tokens (issue 19, part 3). At most chunk_words.
    single_chunk_words: int = 800
    passage_words: int = 1_000  # analyze: the source is cut into passages of at most this many words
    # How the generator asks for a chunk (services/generator/writer.py). `request_share`: of a
    # chunk's budget, asked by its first call. Below 1 (e.g. 0.75) a reply past the budget wastes
    # fewer trimmed tokens, but almost every chunk then takes a second call on its critical path:
    # twice the wall time on a provider that takes seconds a call. 1.0 keeps one call a chunk.
    request_share: float = Field(1.0, gt=0, le=1)
    min_request_words: int = 60  # a continuation asks for at least this much, so a stingy model still converges


class LlmSettings(ModelSettings):
    """For services that call an LLM."""

    llm_provider: Literal["openai", "openai-compatible", "anthropic"] = "openai"
    llm_base_url: str | None = None
    llm_max_requests_per_minute: float = 0  # client-side rate limit per provider; 0 is none
    llm_timeout_seconds: float = 180.0
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
