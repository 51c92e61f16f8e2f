"""How the CLI shows money: a job's cost (`status`) and a dry run's estimate (`submit --dry-run`)."""

from rich.table import Table


def usd(cost: float | None) -> str:
    """A cost the server could not price is unknown, never 0."""
    return "unknown" if cost is None else f"{cost:.6f}"


def by_model(models: list[dict] | None) -> str:
    """`status`'s one line of tokens per model: "model in/out (USD cost); ..."."""
    return "; ".join(f"{m['model']} {m['tokens_in']}/{m['tokens_out']} (USD {usd(m['cost_usd'])})"
                     for m in models or []) or "-"


def estimate_table(estimate: dict) -> Table:
    table = Table("purpose", "model", "calls", "tokens in", "tokens out", "USD", box=None)
    for row in estimate["by_purpose"]:
        table.add_row(row["purpose"], row["model"], str(row["calls"]), f"{row['input_tokens']:,}",
                      f"{row['output_tokens']:,}", usd(row["cost_usd"]))
    table.add_row("total", "", str(estimate["calls"]), f"{estimate['input_tokens']:,}",
                  f"{estimate['output_tokens']:,}", usd(estimate["cost_usd"]))
    return table
