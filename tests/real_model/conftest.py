"""The real-model tier: Gemma 3 270M, a weak base model that ignores formats, drifts and writes
short, served by llama-cpp-python's OpenAI-compatible server, which the session starts on a free
port (its environment comes from scripts/real_model_env, built once per machine). A stack of its
own (a fresh database, its own bus prefix) writes with it."""

import secrets
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from longform_cli.embedded import free_port
from longform_cli.stack import answers
from tests.conftest import fresh_database
from tests.integration.conftest import Stack, start_stack

ROOT = Path(__file__).resolve().parents[2]
MODEL = "gemma-3-270m"
SETUP_SECONDS = 1800  # the first run on a machine builds llama-cpp-python


def _environment() -> Path:
    """The model file (its virtualenv beside it), or a skip naming what is missing."""
    done = subprocess.run([ROOT / "scripts" / "real_model_env"], capture_output=True, text=True,
                          timeout=SETUP_SECONDS)
    if done.returncode == 3:
        pytest.skip(done.stderr.strip())
    if done.returncode:
        pytest.fail(f"scripts/real_model_env failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def real_model_url(tmp_path_factory) -> Iterator[str]:
    model = _environment()
    port = free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("w")
    server = subprocess.Popen(
        [model.parent / "venv" / "bin" / "python", "-m", "llama_cpp.server", "--model", str(model),
         "--model_alias", MODEL, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
         "--n_threads", "2", "--chat_format", "gemma", "--interrupt_requests", "false"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        if not answers(f"{url}/models", 120, alive=lambda: server.poll() is None):
            raise RuntimeError(f"llama-cpp-python's server did not answer at {url} (exit {server.poll()})")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def real_stack(database_server_url, nats_url, real_model_url, tmp_path_factory) -> Iterator[Stack]:
    llm_env = {"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_BASE_URL": real_model_url,
               "LONGFORM_LLM_MODEL": MODEL, "LONGFORM_LLM_TIMEOUT_SECONDS": "600"}
    with fresh_database(database_server_url) as database_url:
        yield from start_stack(tmp_path_factory.mktemp("real-stack"), database_url, nats_url,
                               f"lfreal{secrets.token_hex(4)}", llm_env)
