from pydantic import Field

from services.common.config import ModelSettings, PlanShapeSettings


class GatewaySettings(ModelSettings, PlanShapeSettings):
    host: str = "127.0.0.1"
    port: int = 8080
    open_signup: bool = True
    rate_limits: str = "signup=10,signin=20,token=20,job=60"  # a minute, per client (limiter.py); 0: none
    # Jobs of one account that run at once; more wait in its queue (services/gateway/queue.py). 0: no cap.
    max_active_jobs_per_user: int = Field(3, ge=0)
    max_queued_jobs_per_user: int = Field(20, ge=0)  # beyond it, POST /v1/jobs answers 429 and stores nothing
    max_body_bytes: int = 10 * 1024 * 1024  # any request body: room for a largest source and the other fields
    max_source_bytes: int = 8 * 1024 * 1024  # a rewrite's source in UTF-8; 500,000 English words take ~3 MB
    docx_readers: int = 2  # .docx uploads read at once (services/gateway/wordfile.py bounds each)
    download_slice_chars: int = 65_536
    live_queue_size: int = 1000  # a websocket client further behind than this is dropped (4408) and resumes with after_seq
    live_audit_flush_seconds: float = 30.0  # an open websocket's reads reach the job's log this often
    prices: str | None = None  # LONGFORM_PRICES: a YAML or JSON price table per model (services/gateway/prices.py)
    estimate_tokens_per_word: float = Field(1.35, gt=0)  # a dry run's tokens per word of prompt and reply (contracts/estimate.py)
