"""Composition root: the provider routes and the control API over one shared state."""

import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from fake_llm.anthropic_api import MESSAGES_PATH, AnthropicDialect
from fake_llm.behaviours import DEFAULT_ENV_VAR, NORMAL_CHAIN, BehaviourSchedule, chain_from_text
from fake_llm.control import control_router
from fake_llm.exchange import FakeLLMState, answer
from fake_llm.openai_api import CHAT_COMPLETIONS_PATH, MODELS_PATH, OpenAIDialect, model_list


def create_app(default_behaviour: str | None = None) -> FastAPI:
    """default_behaviour uses the header syntax ("slow:delay=2", chains joined by "+");
    falls back to $FAKE_LLM_DEFAULT."""
    spec = default_behaviour if default_behaviour is not None else os.environ.get(DEFAULT_ENV_VAR)
    state = FakeLLMState(schedule=BehaviourSchedule(chain_from_text(spec) if spec else NORMAL_CHAIN))
    app = FastAPI(title="Fake LLM", docs_url=None, redoc_url=None)
    app.state.fake_llm = state
    openai_dialect, anthropic_dialect = OpenAIDialect(), AnthropicDialect()

    @app.post(CHAT_COMPLETIONS_PATH)
    async def chat_completions(request: Request) -> Response:
        return await answer(request, openai_dialect, state)

    @app.post(MESSAGES_PATH)
    async def messages(request: Request) -> Response:
        return await answer(request, anthropic_dialect, state)

    @app.get(MODELS_PATH)
    def models() -> dict[str, Any]:
        return model_list()

    app.include_router(control_router(state))
    return app
