"""One fake LLM server per test module, the control client, and real SDK clients pointed at it."""

import anthropic
import openai
import pytest

from fake_llm import running_fake_llm


@pytest.fixture(scope="module")
def server():
    with running_fake_llm() as running:
        yield running


@pytest.fixture(scope="module")
def control(server):
    control = server.control()
    yield control
    control.close()


@pytest.fixture(autouse=True)
def fresh_behaviours(control):
    control.reset()


@pytest.fixture(scope="module")
def gpt(server):
    return openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)


@pytest.fixture(scope="module")
def claude(server):
    return anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="test", max_retries=0)
