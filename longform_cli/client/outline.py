"""`longform plan JOB`: the plan's tree as lines, indented by level, each with its status, words
written of its budget, chunks done of those planned, and a bar (the figures GET /plan gives)."""

from contracts.outline import walk

BAR = 20


def bar(done: int, total: int, width: int = BAR) -> str:
    filled = min(width, (done * width) // total) if total > 0 else 0
    return "[" + "#" * filled + "." * (width - filled) + "]"


def outline_lines(plan: dict) -> list[str]:
    """The plan's header line, then a line per node (parents before their children)."""
    if plan["state"] is None:
        return [f"{plan['job_id']}: still being planned (target {plan['target_words']:,} words)"]
    header = (f"{plan['job_id']}: {plan['state']}, {plan['mode']}, target {plan['target_words']:,} words,"
              f" planned {plan['planned_words'] or 0:,} (outline: {plan['outline_source']})")
    return [header] + [_line(node) for node in walk(plan["sections"])]


def _line(node: dict) -> str:
    index = f"#{node['index']} " if "index" in node else ""
    return (f"{'  ' * (node['level'] - 1)}{index}{node['title']}  {node['status']:<7}"
            f" {node['words']:,}/{node['budget_words']:,} words  {node['chunks_done']}/{node['chunks']} chunks"
            f"  {bar(node['words'], node['budget_words'])}")
