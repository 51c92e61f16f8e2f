from services.common.config import LlmSettings, PlanShapeSettings


class PlannerSettings(LlmSettings, PlanShapeSettings):
    db_pool_size: int = 10  # concurrent handlers each hold a connection while they work
    section_width: int = 1  # sections written concurrently; 1 is fully sequential
    extension_margin: float = 0.02  # extension budgets ask this much over what is missing
    outline_attempts: int = 2  # an unusable outline is asked once more, then planned in code
    min_section_words: int = 150  # an outline finer than this is rejected
    source_slice_chars: int = 65_536  # the rewrite source is read in slices of this size
    ack_wait_seconds: float = 30.0  # a crashed planner's messages are redelivered after this (heartbeats keep live ones)
    plan_workers: int = 4  # jobs planned at once: one slow outline call does not hold up the others
    progress_workers: int = 4  # chunk reports handled at once (one job's wait on its plan's row lock)
    note_width: int = 4  # analyze: passages being noted at once, per job
    digest_words: int = 6_000  # analyze: the notes' digest the report's outline is asked from, at most
    digest_line_words: int = 40  # ... at most this much of each passage's notes
    digest_min_line_words: int = 8  # below this per passage, every k-th passage is shown instead
