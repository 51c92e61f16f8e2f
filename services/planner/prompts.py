"""Prompt templates live in files beside this module."""

from functools import cache
from pathlib import Path

_DIR = Path(__file__).parent / "prompts"


@cache
def template(name: str) -> str:
    return (_DIR / f"{name}.txt").read_text()
