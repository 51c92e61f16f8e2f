"""llama-cpp-python's OpenAI-compatible server with Gemma 3 270M, on a free port, for the
real-model tests and bench/real_model.py. Its environment comes from scripts/real_model_env."""

import contextlib
import subprocess
from pathlib import Path
from typing import Iterator

from longform_cli.embedded import free_port
from longform_cli.stack import answers

ROOT = Path(__file__).resolve().parents[2]
MODEL = "gemma-3-270m"
SETUP_SECONDS = 1800  # the first run on a machine builds llama-cpp-python


class Unavailable(RuntimeError):
    """This machine cannot build the environment (the message says what to install)."""


def model_file() -> Path:
    done = subprocess.run([ROOT / "scripts" / "real_model_env"], capture_output=True, text=True,
                          timeout=SETUP_SECONDS)
    if done.returncode == 3:
        raise Unavailable(done.stderr.strip())
    if done.returncode:
        raise RuntimeError(f"scripts/real_model_env failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def running_llama_server(log_path: Path) -> Iterator[str]:
    """The server's OpenAI base URL. Gemma's own chat template; requests queue instead of cutting
    off the reply being streamed (llama-cpp-python's default interrupts it)."""
    model = model_file()
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [model.parent / "venv" / "bin" / "python", "-m", "llama_cpp.server", "--model", str(model),
             "--model_alias", MODEL, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
             "--n_threads", "2", "--chat_format", "gemma", "--interrupt_requests", "false"],
            stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/v1"
        try:
            if not answers(f"{url}/models", 120, alive=lambda: server.poll() is None):
                raise RuntimeError(f"llama-cpp-python's server did not answer at {url} (exit {server.poll()})")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
