"""What a job costs, priced when it is shown (its tokens per model from audit.job_state_v1), and
what a job would cost before it runs (POST /v1/jobs?dry_run=true, by contracts/estimate.py)."""

from typing import Mapping

from contracts.estimate import Assumptions, PlanShape, Request, described, estimate
from contracts.wordcount import count_words
from services.gateway.config import GatewaySettings
from services.gateway.prices import PriceTable
from services.gateway.schemas import EstimatedCalls, JobEstimate, ModelTokens, NewJob
from services.gateway.sources import Source

NOT_COUNTED = ("Retries, continuations of short or truncated replies, rejected replies and extension sections"
               " come on top: against a provider that misbehaves, about 2x the input and 1.5x the output tokens"
               " (BENCHMARKS.md). Prompt caching, which lowers the price, is not counted.")


def job_cost(row: Mapping, prices: PriceTable) -> dict:
    """cost_usd and tokens_by_model for the job's status. A job projected before its tokens were
    kept per model (they do not add up to its totals) has an unknown cost, not a partial one."""
    by_model = row["tokens_by_model"] or {}
    models = [ModelTokens(model=m, tokens_in=t.get("input", 0), tokens_out=t.get("output", 0),
                          cached_tokens_in=t.get("cached_input", 0), cost_usd=prices.cost_of(m, t))
              for m, t in sorted(by_model.items())]
    whole = (sum(m.tokens_in for m in models), sum(m.tokens_out for m in models)) == (row["tokens_in"], row["tokens_out"])
    return {"cost_usd": prices.total(by_model) if whole else None, "tokens_by_model": models}


def dry_run(job: NewJob, source: Source | None, s: GatewaySettings, prices: PriceTable) -> JobEstimate:
    shape = PlanShape(s.chunk_words, s.chunks_per_section, s.single_chunk_words, s.passage_words, s.request_share,
                      s.min_request_words)
    assumed = Assumptions(tokens_per_word=s.estimate_tokens_per_word)
    request = Request(job.mode, job.target_words, count_words(f"{job.title}\n{job.instructions}"),
                      source.words if source else 0)
    models = s.models_of(job.model)
    rows = [EstimatedCalls(purpose=c.purpose, model=models[c.role], calls=c.calls, input_tokens=c.input_tokens,
                           output_tokens=c.output_tokens,
                           cost_usd=prices.cost_of(models[c.role], _tokens(c.input_tokens, c.output_tokens)))
            for c in estimate(request, shape, assumed)]
    costs = [r.cost_usd for r in rows]
    return JobEstimate(
        mode=job.mode, target_words=job.target_words, source_words=source.words if source else None,
        calls=sum(r.calls for r in rows), input_tokens=sum(r.input_tokens for r in rows),
        output_tokens=sum(r.output_tokens for r in rows),
        cost_usd=None if None in costs else round(sum(costs), 6), by_purpose=rows,
        assumptions=described(shape, assumed), not_counted=NOT_COUNTED)


def _tokens(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"input": input_tokens, "output": output_tokens}
