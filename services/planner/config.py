from services.common.config import ServiceSettings


class PlannerSettings(ServiceSettings):
    chunk_words: int = 800  # largest budget given to one chunk
    chunks_per_section: int = 3
    section_width: int = 1  # sections written concurrently; 1 is fully sequential
    extension_margin: float = 0.02  # extension budgets ask this much over what is missing
