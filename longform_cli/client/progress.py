"""`submit --follow`'s display: a progress bar of words (and chunks) against the target, the section
being written and the tokens used, with the audit log scrolling above it."""

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from contracts.auditlog import text_line


class JobProgress:
    def __init__(self, console: Console, title: str, target_words: int) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.fields[status]:<10}"), BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f} words"),
            TextColumn("chunks {task.fields[chunks]}"), TextColumn("{task.fields[tokens]} tokens"), TimeElapsedColumn(),
            TextColumn("{task.fields[section]}", markup=False),
            console=console, transient=False,
        )
        self.task = self.progress.add_task(title, total=target_words, status="requested", chunks="-", tokens="-",
                                           section="")

    def __enter__(self) -> "JobProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def show_line(self, line: dict) -> None:
        self.progress.console.print(text_line(line), markup=False, highlight=False, soft_wrap=True)

    def show_state(self, state: dict) -> None:
        # A document may run past its target: the bar is full then, the count says by how much.
        self.progress.update(self.task, completed=state["words"], total=max(state["target_words"], state["words"]),
                             status=state["status"], chunks=f"{state['chunks_done']}/{state['chunks_total']}",
                             tokens=f"{state['tokens_in'] + state['tokens_out']:,}", section=_doing(state))


def _doing(state: dict) -> str:
    """The section being written; while an analysis notes its source, how far the notes are."""
    if state["status"] == "queued":
        return f"number {state.get('queue_place') or '?'} in your queue"
    if state["status"] == "noting":
        return f"passages noted {state.get('passages_noted', 0)}/{state.get('passages_total', 0)}"
    return state["section"] or ""
